package hg.ninep.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A struct iovec array over memory the transport holds (a guest's pages), for one preadv or pwritev:
 * the file's bytes move between the file and those pages with no copy of ours in between.
 */
final class Iovecs {
    /** The kernel's IOV_MAX; a longer list is cut there (the read or write comes out short, as the protocol allows). */
    static final int MAX = 1024;
    private static final long IOVEC = 16;

    private final MemorySegment array;

    Iovecs(Arena arena) {
        this.array = arena.allocate(IOVEC * MAX, 8);
    }

    /** The iovec array, filled from {@code segments} up to {@code count} bytes; returns how many entries. */
    int fill(List<MemorySegment> segments, long count) {
        int n = 0;
        long left = count;
        for (MemorySegment s : segments) {
            if (left == 0 || n == MAX) {
                break;
            }
            if (!s.isNative()) {
                throw new IllegalArgumentException("a transport's tail must be native memory");
            }
            long len = Math.min(s.byteSize(), left);
            if (len == 0) {
                continue;
            }
            array.set(JAVA_LONG, n * IOVEC, s.address());
            array.set(JAVA_LONG, n * IOVEC + 8, len);
            left -= len;
            n++;
        }
        return n;
    }

    MemorySegment array() {
        return array;
    }

    /** The bytes {@code segments} hold. */
    static long size(List<MemorySegment> segments) {
        long total = 0;
        for (MemorySegment s : segments) {
            total += s.byteSize();
        }
        return total;
    }
}
