package hg.kvm.sys;

import hg.kvm.KvmException;
import hg.kvm.internal.Errno;
import hg.kvm.internal.Libc;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicBoolean;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/** A Linux eventfd: a 64-bit counter that KVM (irqfd, ioeventfd) and our threads signal through. */
public final class EventFd implements AutoCloseable {
    private final int fd;
    private final AtomicBoolean closed = new AtomicBoolean();

    private EventFd(int fd) {
        this.fd = fd;
    }

    /** A blocking eventfd with counter 0. */
    public static EventFd create() {
        return create(false);
    }

    /** An eventfd with counter 0; a non-blocking one answers {@link #read()} with 0 when unsignalled. */
    public static EventFd create(boolean nonBlocking) {
        int flags = Libc.EFD_CLOEXEC | (nonBlocking ? Libc.EFD_NONBLOCK : 0);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = Libc.newCallState(a);
            int fd = (int) Libc.EVENTFD.invokeExact(state, 0, flags);
            if (fd < 0) {
                throw new KvmException("eventfd", Libc.errno(state));
            }
            return new EventFd(fd);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    public int fd() {
        return fd;
    }

    /** Adds {@code value} to the counter, waking readers (and KVM, for an irqfd). */
    public void write(long value) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(JAVA_LONG);
            buf.set(JAVA_LONG, 0, value);
            MemorySegment state = Libc.newCallState(a);
            long n = (long) Libc.WRITE.invokeExact(state, fd, buf, 8L);
            if (n != 8) {
                throw new KvmException("eventfd write", Libc.errno(state));
            }
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** Returns the counter and resets it to 0; 0 means "not signalled" on a non-blocking eventfd. */
    public long read() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(JAVA_LONG);
            MemorySegment state = Libc.newCallState(a);
            long n = (long) Libc.READ.invokeExact(state, fd, buf, 8L);
            if (n != 8) {
                int errno = Libc.errno(state);
                if (errno == Errno.EAGAIN) {
                    return 0;
                }
                throw new KvmException("eventfd read", errno);
            }
            return buf.get(JAVA_LONG, 0);
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
}
