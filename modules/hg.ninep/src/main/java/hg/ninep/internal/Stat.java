package hg.ninep.internal;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/** What statx says about a file: the fields Rgetattr carries. */
public record Stat(int mode, int uid, int gid, long nlink, long rdev, long size, long blksize, long blocks,
                   long ino, long atimeSec, long atimeNsec, long mtimeSec, long mtimeNsec,
                   long ctimeSec, long ctimeNsec, long btimeSec, long btimeNsec, boolean hasBtime) {

    static final int STATX_BASIC_STATS = 0x7ff;
    static final int STATX_BTIME = 0x800;
    static final int MASK = STATX_BASIC_STATS | STATX_BTIME;

    /** Reads a struct statx (the same layout on every architecture). */
    static Stat of(MemorySegment b) {
        int mask = b.get(JAVA_INT, 0);
        long rdev = makedev(b.get(JAVA_INT, 128), b.get(JAVA_INT, 132));
        return new Stat(Short.toUnsignedInt(b.get(JAVA_SHORT, 28)), b.get(JAVA_INT, 20), b.get(JAVA_INT, 24),
                Integer.toUnsignedLong(b.get(JAVA_INT, 16)), rdev, b.get(JAVA_LONG, 40),
                Integer.toUnsignedLong(b.get(JAVA_INT, 4)), b.get(JAVA_LONG, 48), b.get(JAVA_LONG, 32),
                b.get(JAVA_LONG, 64), Integer.toUnsignedLong(b.get(JAVA_INT, 72)),
                b.get(JAVA_LONG, 112), Integer.toUnsignedLong(b.get(JAVA_INT, 120)),
                b.get(JAVA_LONG, 96), Integer.toUnsignedLong(b.get(JAVA_INT, 104)),
                b.get(JAVA_LONG, 80), Integer.toUnsignedLong(b.get(JAVA_INT, 88)), (mask & STATX_BTIME) != 0);
    }

    /** glibc's dev_t encoding, the one Linux's v9fs decodes st_rdev from. */
    static long makedev(int major, int minor) {
        long ma = Integer.toUnsignedLong(major);
        long mi = Integer.toUnsignedLong(minor);
        return (ma & 0xfffff000L) << 32 | (ma & 0xfffL) << 8 | (mi & 0xffffff00L) << 12 | (mi & 0xffL);
    }

    public int type() {
        return mode & Libc.S_IFMT;
    }

    public boolean isDirectory() {
        return type() == Libc.S_IFDIR;
    }

    public boolean isSymlink() {
        return type() == Libc.S_IFLNK;
    }

    public boolean isRegular() {
        return type() == Libc.S_IFREG;
    }

    public boolean isDevice() {
        return type() == Libc.S_IFCHR || type() == Libc.S_IFBLK;
    }
}
