package hg.vmm.internal.io;

import hg.kvm.sys.Epoll;
import hg.kvm.sys.EventFd;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * A VM's I/O thread: one epoll set of eventfds (queue notifications from ioeventfd) and TAPs,
 * each with the action that serves it. Actions run on this one thread, so a device sees its
 * queue work serialised. A source can be paused and resumed (while the host kernel serves a
 * device's queues itself) and added or removed while the loop runs.
 *
 * <p>A loop that ends other than by {@link #close()} (an {@code Error}, an exception no action
 * caught) leaves its VM without disk or network: it reports the cause to its owner, which stops
 * the VM, rather than let the guest run on with dead devices.
 */
public final class IoLoop implements Runnable, AutoCloseable {

    /** {@code eventFd} null: a plain fd (a TAP) that the action drains itself. */
    private record Source(int fd, EventFd eventFd, int events, Runnable action) {
    }

    /** One source in the loop: pause, resume or remove it from any thread. */
    public final class Registration {
        private final long token;
        private final Source source;
        private boolean watched = true;
        private boolean removed;

        private Registration(long token, Source source) {
            this.token = token;
            this.source = source;
        }

        /** Stops watching the fd; an action already under way may still finish. Idempotent. */
        public void pause() {
            synchronized (dispatch) {
                if (watched && !removed && !stopping) {
                    epoll.remove(source.fd());
                }
                watched = false;
            }
        }

        /** Watches the fd again; what arrived meanwhile is served (level) or reported once (edge). Idempotent. */
        public void resume() {
            synchronized (dispatch) {
                if (!watched && !removed && !stopping) {
                    epoll.add(source.fd(), source.events(), token);
                }
                watched = true;
            }
        }

        /**
         * Takes the source out for good. Once this returns the loop no longer reads its fd, so the
         * caller may close it. Idempotent; a no-op once the loop is closed.
         */
        public void remove() {
            synchronized (dispatch) {
                if (removed) {
                    return;
                }
                if (watched && !stopping) {
                    epoll.remove(source.fd());
                }
                removed = true;
                sources.remove(token);
            }
        }
    }

    private static final System.Logger LOG = System.getLogger("hg.vmm.io");

    private final String name;
    private final Epoll epoll;
    private final EventFd wake;
    private final Map<Long, Source> sources = new ConcurrentHashMap<>();
    /** Held while epoll changes and while an eventfd is read, so a removed fd is never read after removal. */
    private final Object dispatch = new Object();
    private long nextToken = 1;
    private volatile boolean stopping;
    private hg.vmm.internal.threads.Started thread;
    private final Consumer<Throwable> failed;
    /** Held by the loop while it serves a batch of events; {@link #hold()} takes it to keep the loop still. Fair, so a holder is not starved. */
    private final java.util.concurrent.locks.ReentrantLock serving = new java.util.concurrent.locks.ReentrantLock(true);

    /** A loop whose failure is only logged (for tests and tools). */
    public IoLoop(String name) {
        this(name, e -> { });
    }

    /** @param failed told, on the loop's thread, why the loop ended when nobody closed it */
    public IoLoop(String name, Consumer<Throwable> failed) {
        this.name = name;
        this.failed = failed;
        this.epoll = Epoll.create();
        try {
            this.wake = EventFd.create(true);
            epoll.add(wake.fd(), Epoll.IN, 0);
        } catch (RuntimeException e) {
            epoll.close();
            throw e;
        }
    }

    /** Serves {@code fd} with {@code action} whenever it becomes readable. */
    public Registration add(EventFd fd, Runnable action) {
        return register(new Source(fd.fd(), fd, Epoll.IN, action));
    }

    /**
     * Serves a plain fd (a TAP) edge-triggered: {@code action} runs when it becomes readable and
     * must read it until it is empty (or remember to come back).
     */
    public Registration addEdgeTriggered(int fd, Runnable action) {
        return register(new Source(fd, null, Epoll.IN | Epoll.EDGE_TRIGGERED, action));
    }

    private Registration register(Source s) {
        synchronized (dispatch) {
            if (stopping) {
                throw new IllegalStateException("I/O loop " + name + " is closed");
            }
            long token = nextToken++;
            sources.put(token, s);
            try {
                epoll.add(s.fd(), s.events(), token);
            } catch (RuntimeException e) {
                sources.remove(token);
                throw e;
            }
            return new Registration(token, s);
        }
    }

    /** Serves on a new thread of its own. */
    public void start() {
        start(hg.vmm.internal.threads.ThreadStarter.NEW_THREADS);
    }

    /** Serves on a thread {@code threads} gives. */
    public synchronized void start(hg.vmm.internal.threads.ThreadStarter threads) {
        thread = threads.start(name, this);
    }

    @Override
    public void run() {
        try {
            serve();
        } catch (RuntimeException | Error e) {
            if (!stopping) {
                report(e);
            }
        }
    }

    private void serve() {
        try (Epoll.Events events = new Epoll.Events(16)) {
            while (!stopping) {
                int n = epoll.await(events, -1);
                serving.lock();
                try {
                    serveBatch(events, n);
                } finally {
                    serving.unlock();
                }
            }
        }
    }

    private void serveBatch(Epoll.Events events, int n) {
        for (int i = 0; i < n; i++) {
            long token = events.token(i);
            if (token == 0) {
                wake.read();
                continue;
            }
            Source s;
            synchronized (dispatch) {
                s = sources.get(token);
                if (s == null || (s.eventFd() != null && s.eventFd().read() == 0)) {
                    continue;   // removed after epoll reported it, or nothing to read
                }
            }
            s.action().run();
        }
    }

    /** What {@link #hold()} returns: closing it lets the loop go on. */
    public interface Hold extends AutoCloseable {
        @Override
        void close();
    }

    /**
     * Keeps the loop from serving anything until the hold is closed (on the same thread): the
     * devices it drives stand still, so their state and guest memory can be read as one. Waits
     * for a batch in progress to end.
     */
    public Hold hold() {
        serving.lock();
        return serving::unlock;
    }

    private void report(Throwable e) {
        try {
            LOG.log(System.Logger.Level.ERROR, name + " stopped: " + e);
            failed.accept(e);
        } catch (RuntimeException | Error again) {
            // Out of memory, most likely: nothing more this thread can do.
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
        synchronized (dispatch) {
            epoll.close();
            wake.close();
        }
    }
}
