package hg.host.internal;

import hg.host.Sizes;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * Reads an ext2/3/4 superblock (1024 bytes at offset 1024 of the image) far enough to tell the
 * filesystem, its label and whether the file holds the whole filesystem. A pure function of bytes.
 */
public final class Ext4Probe {
    public static final int SUPERBLOCK_OFFSET = 1024;
    public static final int SUPERBLOCK_SIZE = 1024;
    static final int MAGIC = 0xEF53;
    private static final int COMPAT_HAS_JOURNAL = 0x4;
    private static final int INCOMPAT_EXTENTS = 0x40, INCOMPAT_64BIT = 0x80, INCOMPAT_FLEX_BG = 0x200;

    /** What the superblock says: either a filesystem or why the bytes are not one. */
    public sealed interface Result {}

    public record Filesystem(String type, String label, long bytes) implements Result {}

    public record NotExt(String reason) implements Result {}

    private Ext4Probe() {}

    /**
     * @param superblock the bytes at offset 1024 of the file (fewer when the file is short)
     * @param fileSize   the file's size, to find images cut short
     */
    public static Result probe(byte[] superblock, long fileSize) {
        if (superblock.length < 0x88) {
            return new NotExt("too small for an ext4 image (" + fileSize + " bytes, no superblock at byte 1024)");
        }
        ByteBuffer sb = ByteBuffer.wrap(superblock).order(ByteOrder.LITTLE_ENDIAN);
        int magic = Short.toUnsignedInt(sb.getShort(0x38));
        if (magic != MAGIC) {
            return new NotExt(String.format("not an ext4 image (no superblock magic 0xEF53 at byte 1080, found 0x%04X)", magic));
        }
        int logBlockSize = sb.getInt(0x18);
        if (logBlockSize < 0 || logBlockSize > 6) {
            return new NotExt("damaged ext4 superblock (block size 2^" + (10 + Integer.toUnsignedLong(logBlockSize)) + ")");
        }
        long blockSize = 1024L << logBlockSize;
        int compat = sb.getInt(0x5C);
        int incompat = sb.getInt(0x60);
        long blocks = Integer.toUnsignedLong(sb.getInt(0x04));
        if ((incompat & INCOMPAT_64BIT) != 0 && superblock.length >= 0x154) {
            blocks |= Integer.toUnsignedLong(sb.getInt(0x150)) << 32;
        }
        if (blocks == 0) {
            return new NotExt("damaged ext4 superblock (0 blocks)");
        }
        long bytes = blocks > Long.MAX_VALUE / blockSize ? Long.MAX_VALUE : blocks * blockSize;
        if (bytes > fileSize) {
            return new NotExt("truncated ext4 image (the filesystem needs " + Sizes.human(bytes)
                    + ", the file has " + Sizes.human(fileSize) + ")");
        }
        String type = (incompat & (INCOMPAT_EXTENTS | INCOMPAT_64BIT | INCOMPAT_FLEX_BG)) != 0 ? "ext4"
                : (compat & COMPAT_HAS_JOURNAL) != 0 ? "ext3" : "ext2";
        return new Filesystem(type, label(superblock), bytes);
    }

    private static String label(byte[] sb) {
        int end = 0x78;
        while (end < 0x88 && sb[end] != 0) {
            end++;
        }
        String raw = new String(sb, 0x78, end - 0x78, StandardCharsets.UTF_8);
        StringBuilder clean = new StringBuilder();
        raw.codePoints().forEach(cp -> clean.appendCodePoint(Character.isISOControl(cp) ? '?' : cp));
        return clean.toString();
    }
}
