package hg.kvm.sys;

import hg.kvm.KvmException;
import hg.kvm.internal.Errno;
import hg.kvm.internal.Libc;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * A whole-file lock that belongs to an open file description of its own (fcntl F_OFD_SETLK),
 * not to the process. Java's {@code FileChannel.lock} takes per-process POSIX locks, which the
 * kernel drops when the process closes any descriptor of the file, e.g. a catalog reading a
 * superblock: a lock that a listing can undo protects nothing. An OFD lock lasts until its own
 * descriptor closes, and it still conflicts with the POSIX locks other tools take, even those of
 * this process.
 */
public final class OfdLock implements AutoCloseable {
    private static final int F_OFD_GETLK = 36;
    private static final int F_OFD_SETLK = 37;
    private static final short F_RDLCK = 0;
    private static final short F_WRLCK = 1;
    private static final short F_UNLCK = 2;
    /** struct flock on x86-64: l_type, l_whence (shorts), l_start, l_len (off_t), l_pid, padding. */
    private static final long FLOCK_SIZE = 32;
    private static final long L_TYPE = 0, L_WHENCE = 2, L_START = 8, L_LEN = 16;

    private final int fd;
    private final Path path;
    private final boolean shared;
    private boolean closed;

    private OfdLock(int fd, Path path, boolean shared) {
        this.fd = fd;
        this.path = path;
        this.shared = shared;
    }

    /**
     * The descriptor the lock belongs to: open read-only for a shared lock, read-write for an exclusive one,
     * so its holder may read (and, exclusive, write) the file through it. It closes with the lock.
     */
    public int fd() {
        return fd;
    }

    /**
     * Locks all of {@code path}: shared (many readers) or exclusive (one writer, which needs the
     * file writable). Empty when another holder's lock conflicts; throws when the file cannot be
     * opened or locked for another reason.
     */
    public static Optional<OfdLock> tryLock(Path path, boolean shared) {
        return tryLock(path, shared, false);
    }

    /** As {@link #tryLock(Path, boolean)}, making the file (mode 0600) when {@code create} and it is missing. */
    public static Optional<OfdLock> tryLock(Path path, boolean shared, boolean create) {
        int flags = (shared ? Libc.O_RDONLY : Libc.O_RDWR) | Libc.O_CLOEXEC | (create ? Libc.O_CREAT : 0);
        int fd = Libc.open(path.toString(), flags, 0600);
        int errno;
        try {
            errno = fcntl(fd, F_OFD_SETLK, shared ? F_RDLCK : F_WRLCK);
        } catch (RuntimeException e) {
            Libc.close(fd);
            throw e;
        }
        if (errno == 0) {
            return Optional.of(new OfdLock(fd, path, shared));
        }
        Libc.close(fd);
        if (errno == Errno.EAGAIN || errno == Errno.EACCES) {
            return Optional.empty();
        }
        throw new KvmException("F_OFD_SETLK " + path, errno);
    }

    /**
     * Whether any process (this one included) holds a lock on {@code path} that conflicts with a
     * {@code shared} one (so a writer's) or, for {@code !shared}, with any lock at all.
     */
    public static boolean isLocked(Path path, boolean shared) {
        int fd = Libc.open(path.toString(), Libc.O_RDONLY | Libc.O_CLOEXEC);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment flock = flock(a, shared ? F_RDLCK : F_WRLCK);
            MemorySegment state = Libc.newCallState(a);
            int r = (int) Libc.FCNTL_PTR.invokeExact(state, fd, F_OFD_GETLK, flock);
            if (r < 0) {
                throw new KvmException("F_OFD_GETLK " + path, Libc.errno(state));
            }
            return flock.get(JAVA_SHORT, L_TYPE) != F_UNLCK;
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        } finally {
            Libc.close(fd);
        }
    }

    private static int fcntl(int fd, int cmd, short type) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = Libc.newCallState(a);
            int r = (int) Libc.FCNTL_PTR.invokeExact(state, fd, cmd, flock(a, type));
            return r < 0 ? Libc.errno(state) : 0;
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** A whole-file struct flock; l_pid stays 0, as OFD locks require. */
    private static MemorySegment flock(Arena a, short type) {
        MemorySegment s = a.allocate(FLOCK_SIZE, 8);
        s.set(JAVA_SHORT, L_TYPE, type);
        s.set(JAVA_SHORT, L_WHENCE, (short) 0); // SEEK_SET
        s.set(JAVA_LONG, L_START, 0);
        s.set(JAVA_LONG, L_LEN, 0); // to the end, however far the file grows
        return s;
    }

    public Path path() {
        return path;
    }

    public boolean shared() {
        return shared;
    }

    /** Releases the lock by closing its descriptor. Idempotent. */
    @Override
    public synchronized void close() {
        if (!closed) {
            closed = true;
            Libc.close(fd);
        }
    }

    @Override
    public String toString() {
        return (shared ? "shared" : "exclusive") + " lock on " + path;
    }
}
