package hg.host;

import hg.host.HostException.Kind;
import hg.host.internal.AgentFrames;
import hg.host.internal.AgentFrames.Frame;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The host's side of the guest agent (guest/agent/PROTOCOL.md), over a VM's vsock socket: run a command,
 * copy a file in or out, ask the version. Every call is one connection; a guest that does not answer is
 * given up on after a time, with one line.
 */
public final class GuestAgent {
    /** The vsock port hg-agent listens on. */
    public static final int PORT = 1024;
    /** How long a guest has to accept the connection: an agent answers in milliseconds. */
    public static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    /** A copy or a version that makes no progress for this long is given up on. */
    public static final Duration STALL_TIMEOUT = Duration.ofSeconds(30);

    /** A command: its arguments, its whole environment (empty: the agent's own), its working directory (empty: /). */
    public record Command(List<String> argv, Map<String, String> env, String cwd) {
        public Command {
            argv = List.copyOf(argv);
            env = Map.copyOf(env);
            if (argv.isEmpty()) {
                throw new IllegalArgumentException("a command needs at least its name");
            }
        }
    }

    private final int vmId;
    private final Path socket;

    public GuestAgent(int vmId, Path socket) {
        this.vmId = vmId;
        this.socket = socket;
    }

    /** The agent of VM {@code id} among {@code machines}: refused in one line unless it runs and has a vsock. */
    public static GuestAgent of(Machines machines, int id) throws HostException {
        for (Machines.Info i : machines.list()) {
            if (i.id() == id) {
                if (!(i.state() instanceof Machines.State.Running)) {
                    throw new HostException(Kind.CONFLICT, "vm " + id + " is not running: its agent cannot answer"
                            + (i.state() instanceof Machines.State.Paused ? " (vm_resume " + id + " first)" : ""));
                }
                Path socket = i.vsock().orElseThrow(() -> new HostException(Kind.CONFLICT,
                        "vm " + id + " has no vsock, so no agent to reach"));
                return new GuestAgent(id, socket);
            }
        }
        throw new HostException(Kind.NOT_FOUND, "there is no vm " + id);
    }

    /**
     * Runs {@code command}, writing its stdout and stderr as they come; returns its exit status. With a
     * {@code timeout}, a command still running then is killed (the connection ends) and this says so.
     */
    public int exec(Command command, InputStream stdin, OutputStream out, OutputStream err, Duration timeout)
            throws HostException {
        Connection c = connect(timeout);
        if (timeout == null) {
            c.noDeadline();   // a command may be quiet as long as it runs
        }
        try (c) {
            c.send(AgentFrames.EXEC, execPayload(command));
            if (stdin == null) {
                c.send(AgentFrames.STDIN, new byte[0]);
            } else {
                Thread.ofVirtual().name("vm" + vmId + "-exec-stdin").start(() -> feed(c, stdin));
            }
            while (true) {
                Frame f = c.read();
                switch (f.type()) {
                    case AgentFrames.STDOUT -> out.write(f.payload());
                    case AgentFrames.STDERR -> err.write(f.payload());
                    case AgentFrames.EXIT -> {
                        out.flush();
                        err.flush();
                        return AgentFrames.u32(f.payload(), 0);
                    }
                    case AgentFrames.ERROR -> throw refused(f);
                    default -> throw new HostException(Kind.FAILED, "the agent of vm " + vmId + " sent frame type "
                            + f.type() + " during a command");
                }
            }
        } catch (IOException e) {
            if (c.timedOut.get()) {
                throw new HostException(Kind.FAILED, "vm " + vmId + ": " + command.argv().getFirst() + " did not end within "
                        + timeout.toSeconds() + " s and was killed");
            }
            throw lost(e, "running " + command.argv().getFirst());
        }
    }

    private static void feed(Connection c, InputStream stdin) {
        byte[] buf = new byte[AgentFrames.MAX_PAYLOAD];
        try {
            int n;
            while ((n = stdin.read(buf)) > 0) {
                c.send(AgentFrames.STDIN, buf, n);
            }
            c.send(AgentFrames.STDIN, new byte[0]);
        } catch (IOException e) {
            // the command ended or the connection went: the reader says which
        }
    }

    /** Where a guest file's bytes go: told the file's mode and size before the first byte. */
    @FunctionalInterface
    public interface FileSink {
        OutputStream open(int mode, long size) throws IOException;
    }

    /** Copies the guest's file {@code guestPath} to {@code local} (written whole or not at all), with its mode. */
    public long copyOut(String guestPath, Path local) throws HostException {
        Path tmp = local.resolveSibling("." + local.getFileName() + ".hg-cp-" + ProcessHandle.current().pid());
        TempFile sink = new TempFile(tmp);
        try {
            long written;
            try (sink) {
                written = copyOut(guestPath, sink);
            }
            Files.setPosixFilePermissions(tmp, permissions(sink.mode));
            Files.move(tmp, local, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return written;
        } catch (IOException e) {
            throw new HostException(Kind.FAILED, "cannot write " + local + ": " + e.getMessage());
        } finally {
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // the temporary file of a copy that failed; its name says what it is
            }
        }
    }

    /** A copy's temporary file beside its target, opened when the guest said the file's mode. */
    private static final class TempFile implements FileSink, AutoCloseable {
        final Path path;
        int mode;
        OutputStream out;

        TempFile(Path path) {
            this.path = path;
        }

        @Override
        public OutputStream open(int mode, long size) throws IOException {
            this.mode = mode;
            return out = Files.newOutputStream(path);
        }

        @Override
        public void close() throws IOException {
            if (out != null) {
                out.close();
            }
        }
    }

    /**
     * Copies the guest's file {@code guestPath} into what {@code sink} opens; fails when the file changed size
     * while it was read, so what arrived is never taken for the file. A sink's own failure is an IOException.
     */
    public long copyOut(String guestPath, FileSink sink) throws HostException, IOException {
        try (Connection c = connect(null)) {
            c.send(AgentFrames.READ, cString(guestPath));
            Frame info = c.read();
            if (info.type() == AgentFrames.ERROR) {
                throw refused(info);
            }
            if (info.type() != AgentFrames.FILE || info.payload().length != 12) {
                throw new HostException(Kind.FAILED, "the agent of vm " + vmId + " answered a read with frame type " + info.type());
            }
            int mode = AgentFrames.u32(info.payload(), 0) & 0777;
            long size = java.nio.ByteBuffer.wrap(info.payload(), 4, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
            OutputStream out = sink.open(mode, size);
            long written = 0;
            while (true) {
                Frame f = c.read();
                if (f.type() == AgentFrames.DATA) {
                    if (written + f.payload().length > size) {
                        break;
                    }
                    out.write(f.payload());
                    written += f.payload().length;
                } else if (f.type() == AgentFrames.END) {
                    break;
                } else if (f.type() == AgentFrames.ERROR) {
                    throw refused(f);
                } else {
                    throw new HostException(Kind.FAILED, "the agent of vm " + vmId + " sent frame type " + f.type()
                            + " in a file");
                }
            }
            out.flush();
            if (written != size) {
                // A file that changed while it was read: what came is not the file it said.
                throw new HostException(Kind.FAILED, "vm " + vmId + ": " + guestPath + " was " + size + " bytes when the copy "
                        + "began and " + (written < size ? written : "more") + " came: it changed meanwhile; try again");
            }
            return written;
        } catch (AgentIOException e) {
            throw lost(e.getCause(), "copying " + guestPath + " out");
        }
    }

    /** Copies {@code local} into the guest as {@code guestPath}, with the local file's mode. */
    public long copyIn(Path local, String guestPath) throws HostException {
        int mode;
        try {
            mode = mode(Files.getPosixFilePermissions(local));
        } catch (IOException e) {
            throw new HostException(Kind.INVALID, "cannot read " + local + ": " + e.getMessage());
        }
        try (InputStream in = Files.newInputStream(local)) {
            return copyIn(in, mode, guestPath);
        } catch (IOException e) {
            throw new HostException(Kind.FAILED, "cannot read " + local + ": " + e.getMessage());
        }
    }

    /**
     * Copies what {@code in} holds into the guest as {@code guestPath} with permission bits {@code mode}; the
     * guest's file is replaced only once all of it arrived. A failure of {@code in} itself is an IOException.
     */
    public long copyIn(InputStream in, int mode, String guestPath) throws HostException, IOException {
        try (Connection c = connect(null)) {
            byte[] path = cString(guestPath);
            byte[] request = new byte[4 + path.length];
            request[0] = (byte) (mode & 0777);
            request[1] = (byte) ((mode & 0777) >>> 8);
            System.arraycopy(path, 0, request, 4, path.length);
            c.send(AgentFrames.WRITE, request);
            byte[] buf = new byte[AgentFrames.MAX_PAYLOAD];
            long sent = 0;
            int n;
            while ((n = in.read(buf)) > 0) {
                c.send(AgentFrames.DATA, buf, n);
                sent += n;
            }
            c.send(AgentFrames.END, new byte[0]);
            Frame f = c.read();
            if (f.type() == AgentFrames.ERROR) {
                throw refused(f);
            }
            if (f.type() != AgentFrames.OK) {
                throw new HostException(Kind.FAILED, "the agent of vm " + vmId + " answered a write with frame type " + f.type());
            }
            return sent;
        } catch (AgentIOException e) {
            throw lost(e.getCause(), "copying into " + guestPath);
        }
    }

    /**
     * For a clone: the guest's card {@code iface} takes {@code mac} and the one address {@code address} (with its
     * prefix, e.g. {@code 172.30.0.9/16}), and its default route goes through {@code gateway} (none when empty).
     */
    public void setNetwork(String iface, byte[] mac, String address, String gateway) throws HostException {
        if (mac.length != 6) {
            throw new IllegalArgumentException("a MAC has 6 bytes, not " + mac.length);
        }
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes(cString(iface));
        b.writeBytes(mac);
        b.writeBytes(cString(address));
        b.writeBytes(cString(gateway));
        request(AgentFrames.NET, b.toByteArray(), "setting its network address");
    }

    /** Most bytes one reseed carries: the agent's bound. */
    public static final int MAX_SEED = 4096;

    /**
     * Credits {@code seed} to the guest's entropy pool and reseeds its random-number generator: a clone's random
     * numbers then part from its parent's and its siblings'.
     */
    public void reseed(byte[] seed) throws HostException {
        if (seed.length < 1 || seed.length > MAX_SEED) {
            throw new IllegalArgumentException("a seed is 1 to " + MAX_SEED + " bytes, not " + seed.length);
        }
        request(AgentFrames.ENTROPY, seed, "reseeding its random numbers");
    }

    /** One request whose answer is OK or ERROR. */
    private void request(int type, byte[] payload, String doing) throws HostException {
        try (Connection c = connect(null)) {
            c.send(type, payload);
            Frame f = c.read();
            if (f.type() == AgentFrames.ERROR) {
                throw refused(f);
            }
            if (f.type() != AgentFrames.OK) {
                throw new HostException(Kind.FAILED, "the agent of vm " + vmId + " answered frame type " + f.type()
                        + " while " + doing);
            }
        } catch (AgentIOException e) {
            throw lost(e.getCause(), doing);
        }
    }

    /** The agent's version line, e.g. {@code hg-agent 1}. */
    public String version() throws HostException {
        try (Connection c = connect(null)) {
            c.send(AgentFrames.VERSION, new byte[0]);
            Frame f = c.read();
            if (f.type() != AgentFrames.VERSION) {
                throw new HostException(Kind.FAILED, "the agent of vm " + vmId + " answered VERSION with frame type " + f.type());
            }
            return new String(f.payload(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw lost(e, "asking its version");
        }
    }

    static byte[] execPayload(Command command) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int envc = command.env().size();
        int argc = command.argv().size();
        b.writeBytes(new byte[] {(byte) argc, (byte) (argc >>> 8), (byte) (argc >>> 16), (byte) (argc >>> 24),
                (byte) envc, (byte) (envc >>> 8), (byte) (envc >>> 16), (byte) (envc >>> 24)});
        for (String a : command.argv()) {
            b.writeBytes(cString(a));
        }
        for (Map.Entry<String, String> e : command.env().entrySet()) {
            b.writeBytes(cString(e.getKey() + "=" + e.getValue()));
        }
        b.writeBytes(cString(command.cwd()));
        if (b.size() > AgentFrames.MAX_PAYLOAD) {
            throw new IllegalArgumentException("the command with its environment is longer than "
                    + AgentFrames.MAX_PAYLOAD + " bytes");
        }
        return b.toByteArray();
    }

    private static byte[] cString(String s) {
        if (s.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("a NUL byte in '" + s.replace('\0', '?') + "'");
        }
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        byte[] out = new byte[b.length + 1];
        System.arraycopy(b, 0, out, 0, b.length);
        return out;
    }

    private HostException refused(Frame f) {
        return new HostException(Kind.FAILED, "vm " + vmId + ": " + new String(f.payload(), StandardCharsets.UTF_8));
    }

    private HostException lost(IOException e, String doing) {
        String why = e.getMessage() == null ? e.toString() : e.getMessage();
        return new HostException(Kind.FAILED, "vm " + vmId + "'s agent stopped answering while " + doing + ": " + why);
    }

    private static Set<PosixFilePermission> permissions(int mode) {
        StringBuilder s = new StringBuilder();
        String rwx = "rwxrwxrwx";
        for (int i = 0; i < 9; i++) {
            s.append((mode & (1 << (8 - i))) != 0 ? rwx.charAt(i) : '-');
        }
        return PosixFilePermissions.fromString(s.toString());
    }

    private static int mode(Set<PosixFilePermission> p) {
        int mode = 0;
        String s = PosixFilePermissions.toString(p);
        for (int i = 0; i < 9; i++) {
            if (s.charAt(i) != '-') {
                mode |= 1 << (8 - i);
            }
        }
        return mode;
    }

    /** The connection to the agent failed, as opposed to the file or stream on the host's side of a copy. */
    private static final class AgentIOException extends IOException {
        private static final long serialVersionUID = 1L;

        AgentIOException(IOException cause) {
            super(cause.getMessage(), cause);
        }

        @Override
        public synchronized IOException getCause() {
            return (IOException) super.getCause();
        }
    }

    /**
     * A stream to the agent through the VM's vsock socket, past the {@code CONNECT} handshake. A watchdog
     * closes it when the time is up, so no read waits longer.
     */
    private Connection connect(Duration timeout) throws HostException {
        SocketChannel ch;
        try {
            ch = SocketChannel.open(StandardProtocolFamily.UNIX);
            ch.connect(UnixDomainSocketAddress.of(socket));
        } catch (IOException e) {
            throw new HostException(Kind.FAILED, "vm " + vmId + " has no vsock socket at " + socket + " ("
                    + e.getMessage() + ")");
        }
        Connection c = new Connection(ch);
        c.deadline(CONNECT_TIMEOUT);
        try {
            c.out.write(("CONNECT " + PORT + "\n").getBytes(StandardCharsets.US_ASCII));
            c.out.flush();
            String line = c.line();
            if (!line.startsWith("OK ")) {
                throw new IOException("the vsock answered '" + line + "'");
            }
        } catch (IOException e) {
            c.close();
            throw new HostException(Kind.CONFLICT, c.timedOut.get()
                    ? "vm " + vmId + ": no agent answered on vsock port " + PORT + " within " + CONNECT_TIMEOUT.toSeconds()
                            + " s (the guest has no hg-agent, or it has not started yet)"
                    : "vm " + vmId + ": no agent listens on vsock port " + PORT
                            + " (the guest has no hg-agent, or it has not started yet)");
        }
        c.deadline(timeout);
        return c;
    }

    /**
     * The connection ends when its deadline passes (a command's --timeout), or when nothing moved either
     * way for {@link #STALL_TIMEOUT} while no deadline is set: a guest that stops answering never holds a
     * caller for good. A command without a timeout may be quiet as long as it likes.
     */
    private static final class Connection implements AutoCloseable {
        final SocketChannel channel;
        final DataInputStream in;
        final OutputStream out;
        final AtomicBoolean timedOut = new AtomicBoolean();
        private volatile long lastActivity = System.nanoTime();
        private volatile long deadline;
        private volatile boolean watchStalls;
        private final Thread watchdog;

        Connection(SocketChannel channel) {
            this.channel = channel;
            this.in = new DataInputStream(new java.io.BufferedInputStream(Channels.newInputStream(channel), 1 << 16));
            this.out = Channels.newOutputStream(channel);
            this.watchdog = Thread.ofVirtual().start(this::watch);
        }

        private void watch() {
            try {
                while (channel.isOpen()) {
                    TimeUnit.MILLISECONDS.sleep(100);
                    long now = System.nanoTime();
                    long d = deadline;
                    if ((d != 0 && now - d > 0) || (watchStalls && now - lastActivity > STALL_TIMEOUT.toNanos())) {
                        timedOut.set(true);
                        channel.close();
                    }
                }
            } catch (InterruptedException | IOException e) {
                // closed, or stood down
            }
        }

        /** From now, the connection ends after {@code d}; null: only when it stalls. */
        void deadline(Duration d) {
            lastActivity = System.nanoTime();
            deadline = d == null ? 0 : Math.max(1, System.nanoTime() + d.toNanos());
            watchStalls = d == null;
        }

        /** A command without a timeout: no deadline and no stall limit. */
        void noDeadline() {
            deadline = 0;
            watchStalls = false;
        }

        void send(int type, byte[] payload) throws AgentIOException {
            send(type, payload, payload.length);
        }

        synchronized void send(int type, byte[] payload, int len) throws AgentIOException {
            try {
                AgentFrames.write(out, type, payload, 0, len);
            } catch (IOException e) {
                throw new AgentIOException(e);
            }
            lastActivity = System.nanoTime();
        }

        Frame read() throws AgentIOException {
            try {
                Frame f = AgentFrames.read(in);
                lastActivity = System.nanoTime();
                return f;
            } catch (IOException e) {
                throw new AgentIOException(timedOut.get() ? new IOException("the time was up", e) : e);
            }
        }

        String line() throws IOException {
            StringBuilder sb = new StringBuilder();
            while (sb.length() < 64) {
                int b = in.read();
                if (b < 0) {
                    throw new EOFException("the vsock closed the connection");
                }
                if (b == '\n') {
                    return sb.toString();
                }
                sb.append((char) b);
            }
            throw new IOException("the vsock's answer is too long");
        }

        @Override
        public void close() {
            watchdog.interrupt();
            try {
                channel.close();
            } catch (IOException ignored) {
                // done with it
            }
        }
    }
}
