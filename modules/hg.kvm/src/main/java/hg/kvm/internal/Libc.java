package hg.kvm.internal;

import hg.kvm.KvmException;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The libc functions hg.kvm calls, as FFM downcall handles. Every handle that can fail takes
 * a call-state segment first (errno is captured right after the call, before the JVM can
 * overwrite it); the {@code check*} helpers turn a failure into a {@link KvmException}.
 */
public final class Libc {
    private Libc() {}

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LOOKUP = LINKER.defaultLookup();

    /** Layout of the captured call state (holds errno). */
    public static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final long ERRNO_OFFSET =
            CALL_STATE.byteOffset(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option ERRNO = Linker.Option.captureCallState("errno");

    public static final int O_RDONLY = 0;
    public static final int O_RDWR = 2;
    public static final int O_CREAT = 0x40;
    public static final int O_NONBLOCK = 0x800;
    public static final int O_CLOEXEC = 0x80000;
    public static final int O_DIRECTORY = 0x10000;
    public static final int O_PATH = 0x200000;
    public static final int PROT_READ = 1;
    public static final int PROT_WRITE = 2;
    public static final int MAP_SHARED = 1;
    public static final int MAP_PRIVATE = 2;
    public static final int MAP_FIXED = 0x10;
    public static final int MAP_ANONYMOUS = 0x20;
    public static final int MAP_NORESERVE = 0x4000;
    public static final int MAP_HUGETLB = 0x40000;
    /** MAP_HUGE_SHIFT 26: log2 of the huge page size, here 2 MiB. */
    public static final int MAP_HUGE_2MB = 21 << 26;
    public static final int MADV_DONTNEED = 4;
    public static final int MADV_HUGEPAGE = 14;
    public static final int MADV_NOHUGEPAGE = 15;
    public static final int EFD_NONBLOCK = 0x800;
    public static final int EFD_CLOEXEC = 0x80000;
    public static final int EPOLL_CLOEXEC = 0x80000;
    public static final int SIG_BLOCK = 0;
    public static final int SIG_UNBLOCK = 1;
    public static final int SIG_SETMASK = 2;

    public static final MethodHandle OPEN = errnoHandle("open",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), 2);
    /** fcntl(fd, cmd, pointer): the lock commands. */
    public static final MethodHandle FCNTL_PTR = errnoHandle("fcntl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS), 2);
    public static final MethodHandle CLOSE = errnoHandle("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT), -1);
    /** ioctl(fd, request, pointer). */
    public static final MethodHandle IOCTL_PTR = errnoHandle("ioctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS), 2);
    /** ioctl(fd, request, integer). */
    public static final MethodHandle IOCTL_LONG = errnoHandle("ioctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG), 2);
    public static final MethodHandle MMAP = errnoHandle("mmap",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG), -1);
    public static final MethodHandle MUNMAP = errnoHandle("munmap",
            FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG), -1);
    public static final MethodHandle MADVISE = errnoHandle("madvise",
            FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_INT), -1);
    public static final MethodHandle MINCORE = errnoHandle("mincore",
            FunctionDescriptor.of(JAVA_INT, JAVA_LONG, JAVA_LONG, ADDRESS), -1);
    public static final MethodHandle EVENTFD = errnoHandle("eventfd",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT), -1);
    public static final MethodHandle EPOLL_CREATE1 = errnoHandle("epoll_create1",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT), -1);
    public static final MethodHandle EPOLL_CTL = errnoHandle("epoll_ctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS), -1);
    public static final MethodHandle EPOLL_WAIT = errnoHandle("epoll_wait",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), -1);
    public static final MethodHandle READ = errnoHandle("read",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG), -1);
    public static final MethodHandle WRITE = errnoHandle("write",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG), -1);
    /** readv/writev(fd, struct iovec *, count): the TAP's frames, gathered from or scattered to guest memory. */
    public static final MethodHandle READV = errnoHandle("readv",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT), -1);
    public static final MethodHandle WRITEV = errnoHandle("writev",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT), -1);
    /** preadv/pwritev(fd, struct iovec *, count, offset): a disk request's guest pages in one call. */
    public static final MethodHandle PREADV = errnoHandle("preadv",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG), -1);
    public static final MethodHandle PWRITEV = errnoHandle("pwritev",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG), -1);
    /** preadv2(fd, struct iovec *, count, offset, flags): with RWF_NOWAIT, a read only of what the page cache holds. */
    public static final MethodHandle PREADV2 = errnoHandle("preadv2",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG, JAVA_INT), -1);
    /** socket(domain, type, protocol): the control socket the interface ioctls (SIOC*) go through. */
    public static final MethodHandle SOCKET = errnoHandle("socket",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT), -1);
    /** setns(fd, nstype): moves the calling thread into another namespace. */
    public static final MethodHandle SETNS = errnoHandle("setns",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT), -1);
    /** prctl(option, arg2, arg3, arg4, arg5): variadic after the option; no_new_privs, the capability bounding set. */
    public static final MethodHandle PRCTL = errnoHandle("prctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG), 1);
    /**
     * syscall(number, a, b, c, d): the system calls glibc has no wrapper for (landlock_*, seccomp). Pointers go as
     * addresses; every argument the call reads must be passed (landlock_add_rule reads four).
     */
    public static final MethodHandle SYSCALL4 = errnoHandle("syscall",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG), 1);
    /** execve(path, argv, envp): returns only when it failed. */
    public static final MethodHandle EXECVE = errnoHandle("execve",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS), -1);
    public static final MethodHandle GETTID = plainHandle("gettid", FunctionDescriptor.of(JAVA_INT));
    public static final MethodHandle TGKILL = errnoHandle("tgkill",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT), -1);
    /** pthread_sigmask returns the error number instead of setting errno. */
    public static final MethodHandle PTHREAD_SIGMASK = plainHandle("pthread_sigmask",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    public static final MethodHandle SIGTIMEDWAIT = errnoHandle("sigtimedwait",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS), -1);

    @SuppressWarnings("restricted") // native memory and downcalls are what hg.kvm is for
    private static MethodHandle errnoHandle(String name, FunctionDescriptor fd, int firstVariadic) {
        MemorySegment symbol = LOOKUP.find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name));
        return firstVariadic < 0
                ? LINKER.downcallHandle(symbol, fd, ERRNO)
                : LINKER.downcallHandle(symbol, fd, ERRNO, Linker.Option.firstVariadicArg(firstVariadic));
    }

    private static MethodHandle plainHandle(String name, FunctionDescriptor fd) {
        return downcall(name, fd);
    }

    /** A handle on libc's {@code name}, without errno capture (for calls that cannot fail, or say so by value). */
    @SuppressWarnings("restricted") // native memory and downcalls are what hg.kvm is for
    public static MethodHandle downcall(String name, FunctionDescriptor fd, Linker.Option... options) {
        MemorySegment symbol = LOOKUP.find(name)
                .orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name));
        return LINKER.downcallHandle(symbol, fd, options);
    }

    /** errno as captured in a call-state segment. */
    public static int errno(MemorySegment callState) {
        return callState.get(JAVA_INT, ERRNO_OFFSET);
    }

    public static MemorySegment newCallState(Arena arena) {
        return arena.allocate(CALL_STATE);
    }

    /** Wraps a Throwable from invokeExact: only runtime exceptions and errors can really occur. */
    public static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            return r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException(t);
    }

    /** ioctl(fd, request, arg) that throws a KvmException naming {@code name} on failure. */
    public static int ioctl(int fd, long request, MemorySegment arg, String name) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = newCallState(arena);
            int r = (int) IOCTL_PTR.invokeExact(state, fd, request, arg);
            if (r < 0) {
                throw new KvmException(name, errno(state));
            }
            return r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** ioctl(fd, request, integer) that throws a KvmException naming {@code name} on failure. */
    public static int ioctl(int fd, long request, long arg, String name) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = newCallState(arena);
            int r = (int) IOCTL_LONG.invokeExact(state, fd, request, arg);
            if (r < 0) {
                throw new KvmException(name, errno(state));
            }
            return r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int open(String path, int flags) {
        return open(path, flags, 0);
    }

    /** open(path, flags, mode): the mode applies when O_CREAT makes the file. */
    public static int open(String path, int flags, int mode) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = newCallState(arena);
            int r = (int) OPEN.invokeExact(state, arena.allocateFrom(path), flags, mode);
            if (r < 0) {
                throw new KvmException("open " + path, errno(state));
            }
            return r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void close(int fd) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = newCallState(arena);
            int r = (int) CLOSE.invokeExact(state, fd);
            // EINTR on close on Linux still releases the fd: retrying could close someone else's.
            if (r < 0 && errno(state) != Errno.EINTR) {
                throw new KvmException("close", errno(state));
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** mmap that returns the mapping's address or throws. */
    public static long mmap(long addr, long length, int prot, int flags, int fd, long offset, String what) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = newCallState(arena);
            long r = (long) MMAP.invokeExact(state, addr, length, prot, flags, fd, offset);
            if (r == -1L) {
                throw new KvmException("mmap " + what, errno(state));
            }
            return r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void munmap(long addr, long length) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = newCallState(arena);
            int r = (int) MUNMAP.invokeExact(state, addr, length);
            if (r < 0) {
                throw new KvmException("munmap", errno(state));
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static void madvise(long addr, long length, int advice, String what) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = newCallState(arena);
            int r = (int) MADVISE.invokeExact(state, addr, length, advice);
            if (r < 0) {
                throw new KvmException("madvise " + what, errno(state));
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** mincore: one byte per page of {@code [addr, addr + length)} into {@code vec}, bit 0 set where the page is resident. */
    public static void mincore(long addr, long length, MemorySegment vec) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = newCallState(arena);
            int r = (int) MINCORE.invokeExact(state, addr, length, vec);
            if (r < 0) {
                throw new KvmException("mincore", errno(state));
            }
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** prctl(option, a2, a3, 0, 0): its result, or minus the errno when it failed. */
    public static int prctl(int option, long a2, long a3) {
        return prctl(option, a2, a3, 0, 0);
    }

    /** prctl(option, a2, a3, a4, a5): its result, or minus the errno when it failed. */
    public static int prctl(int option, long a2, long a3, long a4, long a5) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = newCallState(arena);
            int r = (int) PRCTL.invokeExact(state, option, a2, a3, a4, a5);
            return r < 0 ? -errno(state) : r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** syscall(number, a, b, c, 0): its result, or minus the errno when it failed. */
    public static long syscall(long number, long a, long b, long c) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = newCallState(arena);
            long r = (long) SYSCALL4.invokeExact(state, number, a, b, c, 0L);
            return r < 0 ? -errno(state) : r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** open(path, flags): the descriptor, or minus the errno when it failed. */
    public static int tryOpen(String path, int flags) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = newCallState(arena);
            int r = (int) OPEN.invokeExact(state, arena.allocateFrom(path), flags, 0);
            return r < 0 ? -errno(state) : r;
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    public static int gettid() {
        try {
            return (int) GETTID.invokeExact();
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    /** Size of the kernel's sigset (what KVM_SET_SIGNAL_MASK takes), in bytes. */
    public static final int KERNEL_SIGSET_SIZE = 8;
    /** Size of glibc's sigset_t. */
    public static final int SIGSET_SIZE = 128;

    public static final ValueLayout.OfLong SIGSET_WORD = JAVA_LONG;
}
