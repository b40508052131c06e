package hg.e2e;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The hyper-gen shell on one of the nest's consoles, driven as a user types: commands with their
 * output, {@code vm_create} with the id it prints, {@code vm_console} into a guest and CTRL+d back.
 * Expected successes fail at once (with the shell's own line) when the shell answers {@code error:}.
 */
final class HgShell {
    static final String PROMPT = "hyper-gen:# ";
    /** The busybox rootfs's shell prompt in its root directory (hostname hyper-gen-guest). */
    static final String GUEST_PROMPT = "hyper-gen-guest:/# ";

    /** JLine's mode switches and probes, and the guest's line editing: not part of any answer. */
    private static final Pattern ESCAPES = Pattern.compile("\u001b\\[[0-9;?]*[ -/]*[@-~]|\u001b[=>]");
    private static final Pattern PROMPT_AFTER_OUTPUT =
            Pattern.compile("(?s)\n(.*?)" + Pattern.quote(PROMPT));
    /**
     * What a guest console shows when the guest is gone: stop waiting for anything else at once. The
     * panic line only once it is whole (its reason is what tells a panic from the rig's faults).
     */
    private static final Pattern GUEST_DEAD =
            Pattern.compile("(\\[vm \\d+ stopped: [^\\]\n]*\\])|(Kernel panic - not syncing[^\n]*)(?=\n)");

    private final ConsoleStream console;
    /** Where the last attached guest's console output begins in the console's text. */
    private int attachedAt;
    private int resyncs;
    private final List<Integer> made = new ArrayList<>();

    HgShell(ConsoleStream console) {
        this.console = console;
    }

    ConsoleStream console() {
        return console;
    }

    /**
     * Waits for the first prompt, then types one empty line and waits for its prompt: anything a
     * terminal probe left in the line editor goes with it, so the first real command arrives clean.
     */
    void awaitReady(Duration timeout) {
        console.waitFor(Pattern.quote(PROMPT), timeout);
        console.send("");
        console.waitFor(Pattern.quote(PROMPT), Duration.ofSeconds(60));
    }

    /**
     * Back to a known place after an earlier step failed half-way (still attached to a guest, or a
     * prompt not yet read): CTRL+d detaches from a guest or, at the prompt, is refused with one line
     * (the console's shell does not exit); then an unknown command unique to this call is answered,
     * and its prompt is the one where the next command starts.
     */
    void resync(Duration timeout) {
        console.sendRaw("\u0004");
        String sentinel = "e2e-resync-" + (++resyncs);
        console.send(sentinel);
        console.waitFor(Pattern.compile("error: unknown command '" + Pattern.quote(sentinel) + "'[^\n]*\n"), timeout);
        console.waitFor(Pattern.quote(PROMPT), timeout);
    }

    /** Runs one shell command and returns what it printed (escape sequences removed, LF lines). */
    String command(String line, Duration timeout) {
        console.send(line);
        Matcher m = console.waitFor(PROMPT_AFTER_OUTPUT, timeout);
        return clean(m.group(1));
    }

    /** A command that must succeed: an {@code error:} line fails the test with that line. */
    String ok(String line, Duration timeout) {
        String out = command(line, timeout);
        errorLine(out).ifPresent(e -> {
            throw new AssertionError("'" + line + "' failed in the hyper-gen shell: " + e + "\nits output:\n" + out);
        });
        return out;
    }

    /** A command that must be refused with exactly one {@code error:} line, which is returned. */
    String refused(String line, Duration timeout) {
        String out = command(line, timeout);
        List<String> lines = out.lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
        if (lines.size() != 1 || !lines.getFirst().startsWith("error: ")) {
            throw new AssertionError("'" + line + "' should have been refused with one error line; the shell printed:\n" + out);
        }
        return lines.getFirst();
    }

    /** {@code vm_create ARGS}: the new VM's id. */
    int vmCreate(String args, Duration timeout) {
        String out = ok("vm_create " + args, timeout);
        List<String> lines = out.lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
        if (lines.isEmpty() || !lines.getLast().matches("\\d+")) {
            throw new AssertionError("vm_create " + args + " printed no vm id:\n" + out);
        }
        int id = Integer.parseInt(lines.getLast());
        made.add(id);
        return id;
    }

    /** The ids of every VM {@link #vmCreate} made in this shell, oldest first. */
    List<Integer> made() {
        return List.copyOf(made);
    }

    /** {@code vm_console ID}: from here on the console is the guest's until {@link #detach}. */
    void attach(int vmId, Duration timeout) {
        console.send("vm_console " + vmId);
        Matcher m = console.waitFor(Pattern.compile("(\\[vm " + vmId
                + " console; CTRL\\+d detaches, the VM keeps running\\])|(?m)^(error: [^\n]*)"), timeout);
        if (m.group(1) == null) {
            throw new AssertionError("vm_console " + vmId + " failed: " + m.group(2));
        }
        attachedAt = m.end();
    }

    /**
     * Waits on an attached console for the guest's shell prompt; a stopped VM or a kernel panic fails
     * at once instead of waiting out the timeout. Returns everything the guest printed up to it
     * since {@link #attach} (the replay included).
     */
    String awaitGuestPrompt(int vmId, Duration timeout) {
        Matcher m = awaitGuest(Pattern.compile(Pattern.quote(GUEST_PROMPT)), vmId, timeout);
        return clean(console.text().substring(attachedAt, m.start()));
    }

    /**
     * Waits on an attached console for {@code what}, failing at once with {@link GuestLost} if the VM
     * stops or its kernel panics.
     */
    Matcher awaitGuest(Pattern what, int vmId, Duration timeout) {
        Pattern either = Pattern.compile("(" + what.pattern() + ")|" + GUEST_DEAD.pattern());
        Matcher m = console.waitFor(either, timeout);
        if (m.group(1) == null) {
            String dead = m.group(m.groupCount() - 1) != null ? m.group(m.groupCount() - 1) : m.group(m.groupCount());
            throw new GuestLost("vm " + vmId + " stopped before /" + what + "/ showed on its console", dead, console.tail(3000));
        }
        return m;
    }

    /**
     * Runs a command in the attached guest's shell; fails unless it exits 0, and with {@link GuestLost}
     * at once when the VM stops or its kernel panics first. Returns its output.
     */
    String guest(String command, Duration timeout) {
        ConsoleStream.ShellResult r;
        try {
            r = console.run(command, timeout, GUEST_DEAD);
        } catch (ConsoleStream.Aborted e) {
            throw new GuestLost("the guest was lost while '" + command + "' ran", e.seen, console.tail(3000));
        }
        if (r.status() != 0) {
            throw new AssertionError("'" + command + "' in the guest exited " + r.status() + ":\n" + clean(r.output()));
        }
        return clean(r.output());
    }

    /**
     * The attached guest stopped or panicked while the test waited on its console: {@code seen} is
     * the VM's stop line or the kernel's panic line, which {@link RigRetry} classifies.
     */
    static final class GuestLost extends ConsoleFailure {
        private static final long serialVersionUID = 1L;

        GuestLost(String what, String seen, String tail) {
            super(what + ": " + seen + "\nconsole tail:\n" + tail, seen);
        }
    }

    /** CTRL+d: back to the hyper-gen prompt, the VM left running. */
    void detach(int vmId, Duration timeout) {
        console.sendRaw("\u0004");
        // Without its "[": a guest cut off in the middle of an escape sequence (ash's ESC [ 6 n
        // cursor query) leaves the stripper inside a CSI, and the "[" ends it.
        console.waitFor(Pattern.quote("detached from vm " + vmId + "; it keeps running]"), timeout);
        console.waitFor(Pattern.quote(PROMPT), timeout);
    }

    static String clean(String s) {
        return ESCAPES.matcher(s).replaceAll("").replace("\r", "");
    }

    static java.util.Optional<String> errorLine(String output) {
        return output.lines().map(String::strip).filter(l -> l.startsWith("error:")).findFirst();
    }
}
