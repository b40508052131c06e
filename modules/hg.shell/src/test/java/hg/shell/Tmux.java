package hg.shell;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A private tmux server with one window running a command: keys in, screen text out. */
final class Tmux implements AutoCloseable {
    private final String socket;
    private final String session = "hg";
    private Path socketPath;

    private Tmux(String socket) {
        this.socket = socket;
    }

    static Tmux start(int columns, int rows, List<String> command) throws IOException, InterruptedException {
        return start(columns, rows, ":", command);
    }

    /** Starts {@code command} after the shell snippet {@code before} (e.g. an stty call). */
    static Tmux start(int columns, int rows, String before, List<String> command) throws IOException, InterruptedException {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/tmux")) || Files.isExecutable(Path.of("/bin/tmux")),
                "tmux is not installed");
        Tmux t = new Tmux("hg-test-" + ProcessHandle.current().pid() + "-" + System.nanoTime());
        List<String> args = new ArrayList<>(List.of("-f", "/dev/null", "new-session", "-d", "-s", t.session,
                "-x", String.valueOf(columns), "-y", String.valueOf(rows)));
        // The shell prints the command's exit status when it ends, and keeps the pane for the test to read.
        args.addAll(List.of("sh", "-c", before + "; \"$@\"; echo \"[exit status $?]\"; exec sleep 600", "sh"));
        args.addAll(command);
        t.tmux(args.toArray(String[]::new));
        t.socketPath = Path.of(t.tmux("display-message", "-p", "-t", t.session, "#{socket_path}").strip());
        return t;
    }

    /** Sends keys as tmux names them ("Tab", "Up", "Enter", "C-d") or literal text. */
    void keys(String... keys) throws IOException, InterruptedException {
        List<String> a = new ArrayList<>(List.of("send-keys", "-t", session));
        a.addAll(List.of(keys));
        tmux(a.toArray(String[]::new));
    }

    /** Sends text literally (no key-name lookup). */
    void text(String text) throws IOException, InterruptedException {
        tmux("send-keys", "-l", "-t", session, text);
    }

    String screen() throws IOException, InterruptedException {
        // From the start of the scroll-back, so earlier output never scrolls out of a test's sight.
        return tmux("capture-pane", "-p", "-J", "-S", "-", "-t", session);
    }

    /** Waits until the screen satisfies {@code until}; fails with the screen shown. */
    String await(String what, Predicate<String> until) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        String s = screen();
        while (!until.test(s)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("screen never showed " + what + ":\n" + s);
            }
            Thread.sleep(50);
            s = screen();
        }
        return s;
    }

    String awaitText(String text) throws IOException, InterruptedException {
        return await("'" + text + "'", s -> s.contains(text));
    }

    /** Waits for the command to end; returns its exit status. */
    int awaitExit() throws IOException, InterruptedException {
        String screen = await("the command ending", x -> x.contains("[exit status "));
        Matcher m = Pattern.compile("\\[exit status (\\d+)]").matcher(screen);
        m.find();
        return Integer.parseInt(m.group(1));
    }

    boolean ended() throws IOException, InterruptedException {
        return screen().contains("[exit status ");
    }

    private String tmux(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("tmux", "-L", socket));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("tmux hung: " + cmd);
        }
        if (p.exitValue() != 0) {
            throw new IOException("tmux failed: " + cmd + ": " + out);
        }
        return out;
    }

    @Override
    public void close() throws IOException {
        try {
            tmux("kill-server");
        } catch (IOException e) {
            // the server is gone already
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (socketPath != null) {
            Files.deleteIfExists(socketPath);
        }
    }
}
