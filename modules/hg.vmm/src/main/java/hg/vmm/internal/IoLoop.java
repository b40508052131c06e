package hg.vmm.internal;

import hg.kvm.Epoll;
import hg.kvm.EventFd;

import java.util.ArrayList;
import java.util.List;

/**
 * A VM's I/O thread: one epoll set of eventfds (queue notifications from ioeventfd), each
 * with the action that serves it. Actions run on this one thread, so a device sees its
 * queue work serialised.
 */
public final class IoLoop implements Runnable, AutoCloseable {

    /** {@code fd} null: a plain fd (a TAP) that the action drains itself. */
    private record Source(EventFd fd, Runnable action) {
    }

    private static final System.Logger LOG = System.getLogger("hg.vmm.io");

    private final String name;
    private final Epoll epoll;
    private final EventFd wake;
    private final List<Source> sources = new ArrayList<>();
    private volatile boolean stopping;
    private Thread thread;

    public IoLoop(String name) {
        this.name = name;
        this.epoll = Epoll.create();
        try {
            this.wake = EventFd.create(true);
            epoll.add(wake.fd(), Epoll.IN, 0);
        } catch (RuntimeException e) {
            epoll.close();
            throw e;
        }
    }

    /** Serves {@code fd} with {@code action} whenever it becomes readable. Before {@link #start}. */
    public synchronized void add(EventFd fd, Runnable action) {
        if (thread != null) {
            throw new IllegalStateException("I/O loop already started");
        }
        sources.add(new Source(fd, action));
        epoll.add(fd.fd(), Epoll.IN, sources.size());
    }

    /**
     * Serves a plain fd (a TAP) edge-triggered: {@code action} runs when it becomes readable and
     * must read it until it is empty (or remember to come back). Before {@link #start}.
     */
    public synchronized void addEdgeTriggered(int fd, Runnable action) {
        if (thread != null) {
            throw new IllegalStateException("I/O loop already started");
        }
        sources.add(new Source(null, action));
        epoll.add(fd, Epoll.IN | Epoll.EDGE_TRIGGERED, sources.size());
    }

    public synchronized void start() {
        thread = Thread.ofPlatform().name(name).daemon().start(this);
    }

    @Override
    public void run() {
        try (Epoll.Events events = new Epoll.Events(16)) {
            while (!stopping) {
                int n = epoll.await(events, -1);
                for (int i = 0; i < n; i++) {
                    long token = events.token(i);
                    if (token == 0) {
                        wake.read();
                        continue;
                    }
                    Source s = sources.get((int) token - 1);
                    if (s.fd() == null || s.fd().read() != 0) {
                        s.action().run();
                    }
                }
            }
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, name + " stopped: " + e);
        }
    }

    /** Stops the thread and waits for it; closes the epoll set and the wake-up eventfd. Idempotent. */
    @Override
    public synchronized void close() {
        if (stopping && thread == null) {
            return;
        }
        stopping = true;
        if (thread != null) {
            wake.write(1);
            try {
                thread.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            thread = null;
        }
        epoll.close();
        wake.close();
    }
}
