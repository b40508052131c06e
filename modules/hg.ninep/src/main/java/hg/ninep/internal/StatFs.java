package hg.ninep.internal;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/** What fstatfs says about the share's file system: the fields Rstatfs carries. */
public record StatFs(long type, long bsize, long blocks, long bfree, long bavail, long files, long ffree,
                     long fsid, long namelen) {

    /** Reads a struct statfs as 64-bit Linux lays it out (x86-64 and arm64 alike). */
    static StatFs of(MemorySegment b) {
        long fsid = Integer.toUnsignedLong(b.get(JAVA_INT, 56)) | Integer.toUnsignedLong(b.get(JAVA_INT, 60)) << 32;
        return new StatFs(b.get(JAVA_LONG, 0), b.get(JAVA_LONG, 8), b.get(JAVA_LONG, 16), b.get(JAVA_LONG, 24),
                b.get(JAVA_LONG, 32), b.get(JAVA_LONG, 40), b.get(JAVA_LONG, 48), fsid, b.get(JAVA_LONG, 64));
    }
}
