package hg.kvm.sys;

import hg.kvm.KvmException;
import hg.kvm.internal.Errno;
import hg.kvm.internal.Libc;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.atomic.AtomicBoolean;

/** A Linux epoll instance: waits on many fds at once (the per-VM I/O loop). */
public final class Epoll implements AutoCloseable {
    public static final int IN = 0x001;
    public static final int OUT = 0x004;
    public static final int ERR = 0x008;
    public static final int HUP = 0x010;
    public static final int EDGE_TRIGGERED = 1 << 31;

    private static final int CTL_ADD = 1;
    private static final int CTL_DEL = 2;
    private static final int CTL_MOD = 3;
    /** struct epoll_event is packed on x86-64: u32 events, then u64 data at offset 4. */
    static final int EVENT_SIZE = 12;
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED;
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED;

    private final int fd;
    private final AtomicBoolean closed = new AtomicBoolean();

    private Epoll(int fd) {
        this.fd = fd;
    }

    public static Epoll create() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = Libc.newCallState(a);
            int fd = (int) Libc.EPOLL_CREATE1.invokeExact(state, Libc.EPOLL_CLOEXEC);
            if (fd < 0) {
                throw new KvmException("epoll_create1", Libc.errno(state));
            }
            return new Epoll(fd);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    public int fd() {
        return fd;
    }

    /** Watches {@code watched} for {@code events}; {@code token} comes back with each event. */
    public void add(int watched, int events, long token) {
        ctl(CTL_ADD, watched, events, token, "EPOLL_CTL_ADD");
    }

    /** Watches an eventfd for readability (it was written to). */
    public void add(EventFd eventFd, long token) {
        add(eventFd.fd(), IN, token);
    }

    public void modify(int watched, int events, long token) {
        ctl(CTL_MOD, watched, events, token, "EPOLL_CTL_MOD");
    }

    public void remove(int watched) {
        ctl(CTL_DEL, watched, 0, 0, "EPOLL_CTL_DEL");
    }

    private void ctl(int op, int watched, int events, long token, String name) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment ev = a.allocate(EVENT_SIZE, 8);
            ev.set(U32, 0, events);
            ev.set(U64, 4, token);
            MemorySegment state = Libc.newCallState(a);
            int r = (int) Libc.EPOLL_CTL.invokeExact(state, fd, op, watched, ev);
            if (r < 0) {
                throw new KvmException(name + " fd " + watched, Libc.errno(state));
            }
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /**
     * Waits up to {@code timeoutMillis} (-1: forever) for events into {@code into}; returns how
     * many arrived (0 on timeout or when a signal interrupted the wait).
     */
    public int await(Events into, int timeoutMillis) {
        try {
            int n = (int) Libc.EPOLL_WAIT.invokeExact(into.callState, fd, into.buffer, into.capacity, timeoutMillis);
            if (n < 0) {
                int errno = Libc.errno(into.callState);
                if (errno == Errno.EINTR) {
                    return 0;
                }
                throw new KvmException("epoll_wait", errno);
            }
            into.count = n;
            return n;
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            Libc.close(fd);
        }
    }

    /** A reusable buffer of events for one waiting thread. */
    public static final class Events implements AutoCloseable {
        private final Arena arena = Arena.ofShared();
        private final MemorySegment buffer;
        private final MemorySegment callState;
        private final int capacity;
        private int count;

        public Events(int capacity) {
            if (capacity <= 0) {
                throw new IllegalArgumentException("capacity must be positive");
            }
            this.capacity = capacity;
            this.buffer = arena.allocate((long) EVENT_SIZE * capacity, 8);
            this.callState = Libc.newCallState(arena);
        }

        /** Events from the last {@link Epoll#await}. */
        public int count() {
            return count;
        }

        public int events(int i) {
            check(i);
            return buffer.get(U32, (long) EVENT_SIZE * i);
        }

        public long token(int i) {
            check(i);
            return buffer.get(U64, (long) EVENT_SIZE * i + 4);
        }

        private void check(int i) {
            if (i < 0 || i >= count) {
                throw new IndexOutOfBoundsException("event " + i + " of " + count);
            }
        }

        @Override
        public void close() {
            arena.close();
        }
    }
}
