package hg.kvm.sys;

import hg.kvm.KvmException;
import hg.kvm.internal.Errno;
import hg.kvm.internal.Libc;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Positional scatter/gather I/O on a file descriptor (preadv, pwritev): the pieces of native memory a
 * request names (a guest's pages) moved with one system call, where a FileChannel takes one call per
 * piece. A short transfer is continued from where it stopped; a read ends early only at the end of the file.
 */
public final class VectoredIo {
    /** IOV_MAX: the most pieces one call takes. */
    public static final int MAX_PIECES = 1024;
    /** What {@link #readIfCached} answers when part of the data is not in the page cache. */
    public static final long NOT_CACHED = -1;
    private static final int RWF_NOWAIT = 0x8;

    private VectoredIo() {
    }

    /** Which call moves the data; named for its errors. */
    private enum Call {
        PREADV("preadv"), PREADV2_NOWAIT("preadv2"), PWRITEV("pwritev");

        final String name;

        Call(String name) {
            this.name = name;
        }

        boolean reads() {
            return this != PWRITEV;
        }
    }

    /** Reads into {@code pieces}, in order, from {@code offset}; returns the bytes placed, fewer only at end of file. */
    public static long read(int fd, List<MemorySegment> pieces, long offset) throws IOException {
        return transfer(fd, pieces, offset, Call.PREADV);
    }

    /**
     * {@link #read}, but only from the page cache (preadv2 with RWF_NOWAIT): {@link #NOT_CACHED} when some
     * of the data would have to come from the device, with part of {@code pieces} filled perhaps.
     *
     * @throws UnsupportedOperationException when the file's file system cannot tell (tmpfs before Linux 6.6)
     */
    public static long readIfCached(int fd, List<MemorySegment> pieces, long offset) throws IOException {
        return transfer(fd, pieces, offset, Call.PREADV2_NOWAIT);
    }

    /** Writes all of {@code pieces}, in order, at {@code offset}. */
    public static void write(int fd, List<MemorySegment> pieces, long offset) throws IOException {
        transfer(fd, pieces, offset, Call.PWRITEV);
    }

    private static long transfer(int fd, List<MemorySegment> pieces, long offset, Call call) throws IOException {
        boolean read = call.reads();
        if (pieces.size() > MAX_PIECES) {
            throw new IllegalArgumentException(pieces.size() + " pieces (at most " + MAX_PIECES + ")");
        }
        long total = 0;
        for (MemorySegment p : pieces) {
            if (!p.isNative()) {
                throw new IllegalArgumentException("vectored file I/O needs native memory");
            }
            total += p.byteSize();
        }
        long done = 0;
        int first = 0;      // the first piece not yet whole
        long skip = 0;      // bytes of it already moved
        try (Arena a = Arena.ofConfined()) {
            MemorySegment iov = a.allocate(16L * Math.max(1, pieces.size()), 8);
            MemorySegment state = Libc.newCallState(a);
            while (done < total) {
                int count = 0;
                for (int i = first; i < pieces.size(); i++, count++) {
                    MemorySegment p = pieces.get(i);
                    long from = i == first ? skip : 0;
                    iov.set(JAVA_LONG, 16L * count, p.address() + from);
                    iov.set(JAVA_LONG, 16L * count + 8, p.byteSize() - from);
                }
                long n = switch (call) {
                    case PREADV -> (long) Libc.PREADV.invokeExact(state, fd, iov, count, offset + done);
                    case PREADV2_NOWAIT -> (long) Libc.PREADV2.invokeExact(state, fd, iov, count, offset + done, RWF_NOWAIT);
                    case PWRITEV -> (long) Libc.PWRITEV.invokeExact(state, fd, iov, count, offset + done);
                };
                if (n < 0) {
                    int errno = Libc.errno(state);
                    if (errno == Errno.EINTR) {
                        continue;
                    }
                    if (call == Call.PREADV2_NOWAIT && errno == Errno.EAGAIN) {
                        return NOT_CACHED;
                    }
                    if (call == Call.PREADV2_NOWAIT && errno == Errno.EOPNOTSUPP) {
                        throw new UnsupportedOperationException("this file system cannot read without waiting");
                    }
                    throw new IOException(new KvmException(call.name, errno).getMessage());
                }
                if (n == 0) {
                    if (read) {
                        break;
                    }
                    throw new IOException("pwritev wrote nothing at offset " + (offset + done));
                }
                done += n;
                for (long left = n; left > 0; ) {
                    long rest = pieces.get(first).byteSize() - skip;
                    if (left >= rest) {
                        left -= rest;
                        first++;
                        skip = 0;
                    } else {
                        skip += left;
                        left = 0;
                    }
                }
            }
        } catch (IOException | RuntimeException | Error e) {   // UnsupportedOperationException among them
            throw e;
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
        return done;
    }
}
