package hg.vmm.internal.virtio.vsock;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The host side of a VM's vsock as Firecracker has it: one Unix socket per VM where a host program
 * connects and writes {@code CONNECT <port>\n} to reach a guest port, and, for a guest that connects
 * to host port P, a listener of the host program's at {@code <path>_P}.
 *
 * <p>One thread watches the listener and every stream's socket. It never touches the device's state:
 * it hands what it saw over as {@link HostEvent}s and kicks the device, whose turn runs under its
 * transport's lock. A stream's socket is taken out of the watch when it fires and put back by the
 * device once it has used what was there, so a guest that takes nothing does not make this spin.
 */
final class HybridHost implements AutoCloseable {
    /** Connected host programs that have not finished their CONNECT line or not been taken by the device yet. */
    static final int MAX_WAITING_CLIENTS = 64;
    /** A CONNECT line is short; a longer one is refused. */
    static final int MAX_LINE = 32;
    static final long LINE_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(5);
    private static final Pattern CONNECT = Pattern.compile("CONNECT ([0-9]{1,10})\n");

    private final Path path;
    private final ServerSocketChannel listener;
    private final Selector selector;
    private final Thread thread;
    private final Queue<HostEvent> events = new ConcurrentLinkedQueue<>();
    private final AtomicInteger waitingClients = new AtomicInteger();
    private final long lineTimeoutNanos;
    /** How long the watch sleeps while a CONNECT line may expire: a second, or less under a shorter line timeout. */
    private final long expiryPollMillis;
    /** Rounds of the watching thread: each is a wake-up of the thread. */
    private volatile long rounds;
    private volatile Runnable kick = () -> { };
    private volatile boolean open = true;

    /** A host program that connected and is writing its CONNECT line. */
    private static final class Client {
        final ByteBuffer line = ByteBuffer.allocate(MAX_LINE);
        final long deadline;

        Client(long deadline) {
            this.deadline = deadline;
        }
    }

    private HybridHost(Path path, ServerSocketChannel listener, Selector selector, String name, long lineTimeoutNanos) {
        this.path = path;
        this.lineTimeoutNanos = lineTimeoutNanos;
        this.expiryPollMillis = Math.max(1, Math.min(1000, lineTimeoutNanos / 1_000_000));
        this.listener = listener;
        this.selector = selector;
        this.thread = Thread.ofPlatform().daemon().name(name).unstarted(this::run);
    }

    /**
     * Listens at {@code path} (mode 0600). A socket file nobody answers on is left over from a VMM
     * that died and is replaced; one that answers belongs to a live VM and is refused.
     */
    static HybridHost listen(Path path, String threadName) throws IOException {
        return listen(path, threadName, LINE_TIMEOUT_NANOS);
    }

    /** As above, with the time a client has for its CONNECT line. */
    static HybridHost listen(Path path, String threadName, long lineTimeoutNanos) throws IOException {
        if (Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            if (!isSocketFile(path)) {
                throw new IOException(path + " exists and is not a socket");
            }
            if (answers(path)) {
                throw new IOException(path + " is in use: another VM listens there");
            }
            Files.delete(path);
        }
        Files.createDirectories(path.getParent());
        ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        Selector selector = null;
        try {
            listener.bind(UnixDomainSocketAddress.of(path));
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
            listener.configureBlocking(false);
            selector = Selector.open();
            listener.register(selector, SelectionKey.OP_ACCEPT);
        } catch (IOException | RuntimeException e) {
            listener.close();
            if (selector != null) {
                selector.close();
            }
            Files.deleteIfExists(path);
            throw e;
        }
        HybridHost host = new HybridHost(path, listener, selector, threadName, lineTimeoutNanos);
        host.thread.start();
        return host;
    }

    private static boolean isSocketFile(Path p) {
        try {
            int mode = (Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS);
            return (mode & 0170000) == 0140000;
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return false;
        }
    }

    private static boolean answers(Path p) {
        try (SocketChannel probe = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            return probe.connect(UnixDomainSocketAddress.of(p));
        } catch (IOException e) {
            return false;
        }
    }

    Path path() {
        return path;
    }

    /** What runs the device's turn: set once the device sits on its transport. */
    void onEvents(Runnable kick) {
        this.kick = kick;
    }

    /** Events since the last call, oldest first; a taken {@link HostEvent.Connect} frees a waiting place. */
    HostEvent poll() {
        HostEvent e = events.poll();
        if (e instanceof HostEvent.Connect) {
            waitingClients.decrementAndGet();
        }
        return e;
    }

    /** Connects to the host program's listener for host port {@code port}; null when there is none. */
    SocketChannel connect(int port) {
        Path target = path.resolveSibling(path.getFileName() + "_" + Integer.toUnsignedString(port));
        SocketChannel ch = null;
        try {
            ch = SocketChannel.open(StandardProtocolFamily.UNIX);
            ch.configureBlocking(false);
            if (!ch.connect(UnixDomainSocketAddress.of(target))) {
                ch.close();   // a backlog full now: the guest is refused as if nobody listened
                return null;
            }
            return ch;
        } catch (IOException | RuntimeException e) {
            if (ch != null) {
                try {
                    ch.close();
                } catch (IOException ignored) {
                    // already failing
                }
            }
            return null;
        }
    }

    /** Starts watching a stream's socket for {@code ops}; from the device's turn. */
    void watch(VsockConnection c, int ops) throws ClosedChannelException {
        if (c.key == null) {
            c.key = c.host.register(selector, ops, c);
        } else if (c.key.isValid()) {
            c.key.interestOps(ops);
        }
    }

    /** Lets the watching thread see interest changes made on this turn. */
    void wakeup() {
        selector.wakeup();
    }

    /** How often the watching thread woke up so far. */
    long rounds() {
        return rounds;
    }

    private void run() {
        while (open) {
            rounds++;
            try {
                // a timeout only while a client's CONNECT line may expire: an idle VM's watch never wakes
                selector.select(waitingClients.get() > 0 ? expiryPollMillis : 0);
            } catch (IOException | RuntimeException e) {
                if (!open) {
                    return;
                }
                continue;
            }
            boolean any = false;
            for (SelectionKey key : selector.selectedKeys()) {
                if (!key.isValid()) {
                    continue;
                }
                try {
                    if (key.channel() == listener) {
                        accept();
                    } else if (key.attachment() instanceof Client client) {
                        any |= readLine(key, client);
                    } else if (key.attachment() instanceof VsockConnection c) {
                        int ready = key.readyOps();
                        key.interestOps(0);
                        events.add(new HostEvent.Ready(c, ready));
                        any = true;
                    }
                } catch (IOException | RuntimeException e) {
                    if (key.attachment() instanceof Client) {
                        dropClient(key);
                    }
                }
            }
            selector.selectedKeys().clear();
            expireClients();
            if (any) {
                kick.run();
            }
        }
    }

    private void accept() throws IOException {
        SocketChannel ch;
        while ((ch = listener.accept()) != null) {
            if (waitingClients.incrementAndGet() > MAX_WAITING_CLIENTS) {
                waitingClients.decrementAndGet();
                ch.close();
                continue;
            }
            ch.configureBlocking(false);
            ch.register(selector, SelectionKey.OP_READ, new Client(System.nanoTime() + lineTimeoutNanos));
        }
    }

    /** Reads what there is of a CONNECT line; true when a whole one was handed to the device. */
    private boolean readLine(SelectionKey key, Client client) throws IOException {
        SocketChannel ch = (SocketChannel) key.channel();
        // One byte at a time: what follows the line is the stream's first data and stays in the socket.
        ByteBuffer one = ByteBuffer.allocate(1);
        while (true) {
            one.clear();
            int n = ch.read(one);
            if (n < 0) {
                dropClient(key);
                return false;
            }
            if (n == 0) {
                return false;
            }
            if (!client.line.hasRemaining()) {
                dropClient(key);
                return false;
            }
            client.line.put(one.get(0));
            if (one.get(0) == '\n') {
                break;
            }
        }
        String line = new String(client.line.array(), 0, client.line.position(), StandardCharsets.US_ASCII);
        Matcher m = CONNECT.matcher(line);
        long port = m.matches() ? Long.parseLong(m.group(1)) : -1;
        if (port < 0 || port > 0xffff_ffffL) {
            dropClient(key);
            return false;
        }
        key.interestOps(0);
        key.attach(null);
        events.add(new HostEvent.Connect(ch, key, (int) port));
        return true;
    }

    private void dropClient(SelectionKey key) {
        key.cancel();
        key.attach(null);
        waitingClients.decrementAndGet();
        try {
            key.channel().close();
        } catch (IOException ignored) {
            // a client we are done with
        }
    }

    private void expireClients() {
        long now = System.nanoTime();
        for (SelectionKey key : selector.keys()) {
            if (key.isValid() && key.attachment() instanceof Client c && now - c.deadline > 0) {
                dropClient(key);
            }
        }
    }

    @Override
    public void close() {
        if (!open) {
            return;
        }
        open = false;
        selector.wakeup();
        try {
            thread.join(TimeUnit.SECONDS.toMillis(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (SelectionKey key : selector.keys()) {
            try {
                key.channel().close();
            } catch (IOException ignored) {
                // closing everything
            }
        }
        HostEvent e;
        while ((e = events.poll()) != null) {
            if (e instanceof HostEvent.Connect c) {
                c.key().cancel();
                try {
                    c.channel().close();
                } catch (IOException ignored) {
                    // closing everything
                }
            }
        }
        try {
            selector.close();
            listener.close();
        } catch (IOException ignored) {
            // closing everything
        }
        try {
            Files.deleteIfExists(path);
        } catch (IOException ignored) {
            // the next VM with this path replaces a stale file
        }
    }
}
