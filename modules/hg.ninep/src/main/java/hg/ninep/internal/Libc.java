package hg.ninep.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The libc calls the server makes, as FFM downcalls that capture errno right after the call
 * (before the JVM can overwrite it) and throw it as an {@link ErrnoException}. Paths are byte
 * strings held as Latin-1 (one char per byte), so any name a guest sends reaches the host as
 * the same bytes.
 */
public final class Libc {
    private Libc() {}

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LOOKUP = LINKER.defaultLookup();
    private static final MemoryLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final long ERRNO_OFFSET =
            CALL_STATE.byteOffset(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option ERRNO = Linker.Option.captureCallState("errno");

    private static final boolean ARM64 = "aarch64".equals(System.getProperty("os.arch"));

    public static final int O_RDONLY = 0;
    public static final int O_WRONLY = 1;
    public static final int O_RDWR = 2;
    public static final int O_ACCMODE = 3;
    public static final int O_CREAT = 0100;
    public static final int O_EXCL = 0200;
    public static final int O_NOCTTY = 0400;
    public static final int O_TRUNC = 01000;
    public static final int O_APPEND = 02000;
    public static final int O_NONBLOCK = 04000;
    public static final int O_DSYNC = 010000;
    public static final int O_SYNC = 04010000;
    public static final int O_CLOEXEC = 02000000;
    public static final int O_PATH = 010000000;
    // The two that differ between x86-64 and arm64.
    public static final int O_DIRECTORY = ARM64 ? 040000 : 0200000;
    public static final int O_NOFOLLOW = ARM64 ? 0100000 : 0400000;

    public static final long RESOLVE_NO_MAGICLINKS = 0x02;
    public static final long RESOLVE_NO_SYMLINKS = 0x04;
    public static final long RESOLVE_BENEATH = 0x08;

    public static final int AT_FDCWD = -100;
    public static final int AT_SYMLINK_NOFOLLOW = 0x100;
    public static final int AT_REMOVEDIR = 0x200;
    public static final int AT_EMPTY_PATH = 0x1000;

    public static final int S_IFMT = 0170000;
    public static final int S_IFSOCK = 0140000;
    public static final int S_IFLNK = 0120000;
    public static final int S_IFREG = 0100000;
    public static final int S_IFBLK = 060000;
    public static final int S_IFDIR = 040000;
    public static final int S_IFCHR = 020000;
    public static final int S_IFIFO = 010000;

    public static final long UTIME_NOW = (1L << 30) - 1;
    public static final long UTIME_OMIT = (1L << 30) - 2;

    private static final long SYS_OPENAT2 = 437;   // the same number on every architecture
    private static final int SEEK_SET = 0;

    private static final MethodHandle SYSCALL4 = handle("syscall",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG), 1);
    private static final MethodHandle OPEN = handle("open",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), 2);
    private static final MethodHandle CLOSE = handle("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle PREAD = handle("pread64",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle PWRITE = handle("pwrite64",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG));
    private static final MethodHandle PREADV = handle("preadv",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG));
    private static final MethodHandle PWRITEV = handle("pwritev",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG));
    private static final MethodHandle STATX = handle("statx",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle FSTATFS = handle("fstatfs", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle UNLINKAT = handle("unlinkat",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle MKDIRAT = handle("mkdirat",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle SYMLINKAT = handle("symlinkat",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
    private static final MethodHandle LINKAT = handle("linkat",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle RENAMEAT = handle("renameat",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS));
    private static final MethodHandle MKNODAT = handle("mknodat",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG));
    private static final MethodHandle FCHOWNAT = handle("fchownat",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle READLINKAT = handle("readlinkat",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG));
    private static final MethodHandle FCHMOD = handle("fchmod", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle CHMOD = handle("chmod", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle FCHOWN = handle("fchown",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle UTIMENSAT = handle("utimensat",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
    private static final MethodHandle TRUNCATE = handle("truncate", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle FSYNC = handle("fsync", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle FDATASYNC = handle("fdatasync", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle LSEEK = handle("lseek",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT));
    private static final MethodHandle GETDENTS64 = handle("getdents64",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));

    private static MethodHandle handle(String name, FunctionDescriptor fd) {
        return handle(name, fd, -1);
    }

    @SuppressWarnings("restricted") // calling libc is this class's job
    private static MethodHandle handle(String name, FunctionDescriptor fd, int firstVariadic) {
        MemorySegment symbol = LOOKUP.find(name).orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name));
        return firstVariadic < 0
                ? LINKER.downcallHandle(symbol, fd, ERRNO)
                : LINKER.downcallHandle(symbol, fd, ERRNO, Linker.Option.firstVariadicArg(firstVariadic));
    }

    /** A NUL-terminated copy of a byte-string path (the caller made sure it holds no NUL). */
    static MemorySegment cString(Arena arena, String path) {
        byte[] bytes = path.getBytes(StandardCharsets.ISO_8859_1);
        MemorySegment s = arena.allocate(bytes.length + 1L);
        MemorySegment.copy(bytes, 0, s, JAVA_BYTE, 0, bytes.length);
        return s;
    }

    private static int errno(MemorySegment state) {
        return state.get(JAVA_INT, ERRNO_OFFSET);
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException(t);
    }

    private static long check(long r, MemorySegment state, String what) throws ErrnoException {
        if (r < 0) {
            throw new ErrnoException(errno(state), what);
        }
        return r;
    }

    /** openat2(dirfd, path, {flags, mode, resolve}): the kernel-side confinement every path goes through. */
    public static int openat2(int dirfd, String path, int flags, int mode, long resolve) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            MemorySegment how = arena.allocate(24, 8);
            how.set(JAVA_LONG, 0, Integer.toUnsignedLong(flags));
            how.set(JAVA_LONG, 8, mode);
            how.set(JAVA_LONG, 16, resolve);
            long r = (long) SYSCALL4.invokeExact(state, SYS_OPENAT2, (long) dirfd,
                    cString(arena, path).address(), how.address(), 24L);
            return (int) check(r, state, "openat2");
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** open(path, flags): only for the share's root and for reopening our own fds through /proc/self/fd. */
    public static int open(String path, int flags) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            return (int) check((int) OPEN.invokeExact(state, cString(arena, path), flags, 0), state, "open");
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** close, ignoring errors: on Linux the fd is gone whatever close says. */
    public static void close(int fd) {
        if (fd < 0) {
            return;
        }
        try (Arena arena = Arena.ofConfined()) {
            int ignored = (int) CLOSE.invokeExact(arena.allocate(CALL_STATE), fd);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** A downcall of ours given its errno capture: what it returns, which {@link #sized} checks. */
    @FunctionalInterface
    private interface SizedCall {
        long call(MemorySegment state) throws Throwable;
    }

    /** Runs {@code call} with an errno capture; its result, or ErrnoException naming {@code what}. */
    private static long sized(String what, SizedCall call) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            return check(call.call(state), state, what);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static long pread(int fd, MemorySegment into, long count, long offset) throws ErrnoException {
        return sized("pread", state -> (long) PREAD.invokeExact(state, fd, into, count, offset));
    }

    public static long pwrite(int fd, MemorySegment from, long count, long offset) throws ErrnoException {
        return sized("pwrite", state -> (long) PWRITE.invokeExact(state, fd, from, count, offset));
    }

    /** preadv: into the {@code count} struct iovec at {@code iov}. */
    public static long preadv(int fd, MemorySegment iov, int count, long offset) throws ErrnoException {
        return sized("preadv", state -> (long) PREADV.invokeExact(state, fd, iov, count, offset));
    }

    /** pwritev: from the {@code count} struct iovec at {@code iov}. */
    public static long pwritev(int fd, MemorySegment iov, int count, long offset) throws ErrnoException {
        return sized("pwritev", state -> (long) PWRITEV.invokeExact(state, fd, iov, count, offset));
    }

    /** statx of the file an fd refers to (an O_PATH fd too), without following a symlink. */
    public static Stat fstat(int fd) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            MemorySegment buf = arena.allocate(256, 8);
            check((int) STATX.invokeExact(state, fd, arena.allocateFrom(""), AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW,
                    Stat.MASK, buf), state, "statx");
            return Stat.of(buf);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static StatFs fstatfs(int fd) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            MemorySegment buf = arena.allocate(120, 8);
            check((int) FSTATFS.invokeExact(state, fd, buf), state, "fstatfs");
            return StatFs.of(buf);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void unlinkat(int dirfd, String name, int flags) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            check((int) UNLINKAT.invokeExact(state, dirfd, cString(arena, name), flags), state, "unlinkat");
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void mkdirat(int dirfd, String name, int mode) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            check((int) MKDIRAT.invokeExact(state, dirfd, cString(arena, name), mode), state, "mkdirat");
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void symlinkat(String target, int dirfd, String name) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            check((int) SYMLINKAT.invokeExact(state, cString(arena, target), dirfd, cString(arena, name)),
                    state, "symlinkat");
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void linkat(int olddirfd, String oldname, int newdirfd, String newname, int flags)
            throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            check((int) LINKAT.invokeExact(state, olddirfd, cString(arena, oldname), newdirfd,
                    cString(arena, newname), flags), state, "linkat");
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void renameat(int olddirfd, String oldname, int newdirfd, String newname) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            check((int) RENAMEAT.invokeExact(state, olddirfd, cString(arena, oldname), newdirfd,
                    cString(arena, newname)), state, "renameat");
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void mknodat(int dirfd, String name, int mode, long dev) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            check((int) MKNODAT.invokeExact(state, dirfd, cString(arena, name), mode, dev), state, "mknodat");
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** fchownat; -1 leaves that id as it is. */
    public static void fchownat(int dirfd, String name, int uid, int gid, int flags) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            check((int) FCHOWNAT.invokeExact(state, dirfd, cString(arena, name), uid, gid, flags), state, "fchownat");
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void fchown(int fd, int uid, int gid) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            check((int) FCHOWN.invokeExact(state, fd, uid, gid), state, "fchown");
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** The target of the symlink an O_PATH fd refers to (readlinkat with an empty path), as a byte string. */
    public static String readlink(int fd, int max) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            MemorySegment buf = arena.allocate(max);
            long n = check((long) READLINKAT.invokeExact(state, fd, arena.allocateFrom(""), buf, (long) max),
                    state, "readlinkat");
            if (n >= max) {
                throw new ErrnoException(Errno.ENAMETOOLONG, "readlinkat");
            }
            return new String(buf.asSlice(0, n).toArray(JAVA_BYTE), StandardCharsets.ISO_8859_1);
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void fchmod(int fd, int mode) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            check((int) FCHMOD.invokeExact(state, fd, mode), state, "fchmod");
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void chmod(String path, int mode) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            check((int) CHMOD.invokeExact(state, cString(arena, path), mode), state, "chmod");
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** utimensat(dirfd, path, {atime, mtime}, flags); a nsec of UTIME_NOW or UTIME_OMIT means what it says. */
    public static void utimensat(int dirfd, String path, long aSec, long aNsec, long mSec, long mNsec, int flags)
            throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            MemorySegment times = arena.allocate(32, 8);
            times.set(JAVA_LONG, 0, aSec);
            times.set(JAVA_LONG, 8, aNsec);
            times.set(JAVA_LONG, 16, mSec);
            times.set(JAVA_LONG, 24, mNsec);
            check((int) UTIMENSAT.invokeExact(state, dirfd, cString(arena, path), times, flags), state, "utimensat");
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void truncate(String path, long size) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            check((int) TRUNCATE.invokeExact(state, cString(arena, path), size), state, "truncate");
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void fsync(int fd, boolean dataOnly) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            int r = dataOnly ? (int) FDATASYNC.invokeExact(state, fd) : (int) FSYNC.invokeExact(state, fd);
            check(r, state, "fsync");
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Positions a directory fd at a cookie an earlier getdents64 gave (d_off), then reads entries from there. */
    public static long getdents(int fd, long offset, MemorySegment buf) throws ErrnoException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CALL_STATE);
            check((long) LSEEK.invokeExact(state, fd, offset, SEEK_SET), state, "lseek");
            return check((long) GETDENTS64.invokeExact(state, fd, buf, buf.byteSize()), state, "getdents64");
        } catch (ErrnoException e) {
            throw e;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }
}
