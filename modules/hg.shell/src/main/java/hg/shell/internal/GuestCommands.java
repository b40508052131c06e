package hg.shell.internal;

import hg.host.CheckedMachines;
import hg.host.GuestAgent;
import hg.host.HostException;

import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** vm_exec and vm_cp: commands and files through the guest agent on the VM's vsock. */
final class GuestCommands {
    static final long MAX_TIMEOUT_S = 24 * 3600;
    private static final Pattern GUEST_PATH = Pattern.compile("(\\d{1,9}):(/.*)");

    /** The shell's check of one vm id argument: a number of a VM that exists, or its one-line refusal. */
    @FunctionalInterface
    interface VmIdCheck {
        int vmId(String command, List<String> args) throws HostException;
    }

    private final CheckedMachines machines;
    private final VmIdCheck ids;

    GuestCommands(CheckedMachines machines, VmIdCheck ids) {
        this.machines = machines;
        this.ids = ids;
    }

    private int vmId(String command, String word) throws HostException {
        return ids.vmId(command, List.of(word));
    }

    /** Runs the command; prints its output as it comes; returns its exit status. */
    int exec(List<String> args, PrintWriter out) throws HostException {
        if (args.isEmpty()) {
            throw new HostException("vm_exec needs a vm id and a command: vm_exec <vm id> -- <command> [args...], e.g. "
                    + "vm_exec 1 -- uname -a");
        }
        int id = vmId("vm_exec", args.getFirst());
        Duration timeout = null;
        int i = 1;
        while (i < args.size() && !args.get(i).equals("--")) {
            String a = args.get(i);
            if (a.equals("--timeout") || a.startsWith("--timeout=")) {
                String value = a.contains("=") ? a.substring(a.indexOf('=') + 1)
                        : i + 1 < args.size() ? args.get(++i) : null;
                timeout = Duration.ofSeconds(seconds(value));
                i++;
            } else if (a.startsWith("-")) {
                throw new HostException("unknown option " + a + ": vm_exec takes --timeout SECONDS before --");
            } else {
                break;   // the command, without a -- before it
            }
        }
        if (i < args.size() && args.get(i).equals("--")) {
            i++;
        }
        List<String> command = args.subList(i, args.size());
        if (command.isEmpty()) {
            throw new HostException("vm_exec needs a command after the vm id: vm_exec " + id + " -- <command> [args...]");
        }
        GuestAgent agent = agent(id);
        out.flush();
        try (TextOut screen = new TextOut(out)) {
            int status = agent.exec(new GuestAgent.Command(command, Map.of(), ""), null, screen, screen, timeout);
            screen.flush();
            if (status != 0) {
                out.println("exit status " + status);
            }
            return status;
        } catch (IllegalArgumentException e) {
            throw new HostException(e.getMessage());
        }
    }

    private static long seconds(String value) throws HostException {
        if (value == null || !value.matches("\\d{1,9}") || Long.parseLong(value) < 1 || Long.parseLong(value) > MAX_TIMEOUT_S) {
            throw new HostException("--timeout takes whole seconds from 1 to " + MAX_TIMEOUT_S + ", e.g. --timeout 30");
        }
        return Long.parseLong(value);
    }

    /** vm_cp ID:PATH LOCAL, or vm_cp LOCAL ID:PATH. */
    void copy(List<String> args, PrintWriter out) throws HostException {
        if (args.size() != 2) {
            throw new HostException("vm_cp takes a source and a destination, one of them in a VM: vm_cp <vm id>:/path local, "
                    + "or vm_cp local <vm id>:/path");
        }
        Matcher from = GUEST_PATH.matcher(args.get(0));
        Matcher to = GUEST_PATH.matcher(args.get(1));
        if (from.matches() == to.matches()) {
            throw new HostException("vm_cp copies between this host and a VM: write the guest side as <vm id>:/absolute/path, "
                    + "e.g. vm_cp 1:/etc/hostname hostname");
        }
        if (from.matches()) {
            int id = vmId("vm_cp", from.group(1));
            Path local = localPath(args.get(1));
            if (Files.isDirectory(local)) {
                local = local.resolve(Path.of(from.group(2)).getFileName() == null ? "file" : Path.of(from.group(2)).getFileName().toString());
            }
            long n = agent(id).copyOut(from.group(2), local);
            out.println("copied " + n + " bytes from vm " + id + ":" + from.group(2) + " to " + local);
        } else {
            int id = vmId("vm_cp", to.group(1));
            Path local = localPath(args.get(0));
            if (!Files.isRegularFile(local)) {
                throw new HostException("vm_cp: " + local + " is not a file here");
            }
            long n = agent(id).copyIn(local, to.group(2));
            out.println("copied " + n + " bytes from " + local + " to vm " + id + ":" + to.group(2));
        }
    }

    private static Path localPath(String value) throws HostException {
        try {
            return Path.of(value).toAbsolutePath();
        } catch (InvalidPathException e) {
            throw new HostException("vm_cp: '" + value + "' is not a path");
        }
    }

    private GuestAgent agent(int id) throws HostException {
        return GuestAgent.of(machines, id);
    }

    /** A command's output onto the shell's writer as it comes: UTF-8 decoded across chunks, control bytes kept. */
    private static final class TextOut extends OutputStream {
        private final PrintWriter out;
        private final CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPLACE).onUnmappableCharacter(CodingErrorAction.REPLACE);
        private final CharBuffer chars = CharBuffer.allocate(8192);
        private ByteBuffer pending = ByteBuffer.allocate(0);

        TextOut(PrintWriter out) {
            this.out = out;
        }

        @Override
        public void write(int b) {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) {
            ByteBuffer in = ByteBuffer.allocate(pending.remaining() + len);
            in.put(pending).put(b, off, len).flip();
            while (true) {
                decoder.decode(in, chars, false);
                chars.flip();
                out.append(chars);
                chars.clear();
                if (!in.hasRemaining() || in.remaining() < 4) {
                    break;
                }
            }
            pending = in.slice();
            out.flush();
        }

        @Override
        public synchronized void flush() {
            out.flush();
        }

        @Override
        public synchronized void close() {
            decoder.decode(pending, chars, true);
            decoder.flush(chars);
            chars.flip();
            out.append(chars);
            out.flush();
        }
    }

}
