package hg.imagetools.internal;

import hg.imagetools.ImageToolsException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/** Extended attributes in the inode's spare space after i_extra_isize (ext4's in-inode EA area). */
final class Xattrs {
    private static final long MAGIC = 0xEA020000L;
    private static final String[][] PREFIXES = {
        {"system.posix_acl_access", "2"}, {"system.posix_acl_default", "3"},
        {"user.", "1"}, {"trusted.", "4"}, {"security.", "6"}, {"system.", "7"},
    };

    private Xattrs() {}

    record Entry(int index, byte[] name, byte[] value) {}

    static List<Entry> encode(Map<String, byte[]> xattrs) {
        List<Entry> out = new ArrayList<>();
        for (Map.Entry<String, byte[]> e : xattrs.entrySet()) {
            String full = e.getKey();
            int index = -1;
            String rest = null;
            for (String[] p : PREFIXES) {
                boolean exact = !p[0].endsWith(".");
                if (exact ? full.equals(p[0]) : full.startsWith(p[0])) {
                    index = Integer.parseInt(p[1]);
                    rest = exact ? "" : full.substring(p[0].length());
                    break;
                }
            }
            if (index < 0) throw new ImageToolsException.BadSource("extended attribute in an unknown namespace: " + full);
            byte[] value = (index == 2 || index == 3) ? aclToDisk(e.getValue(), full) : e.getValue();
            byte[] name = rest.getBytes(StandardCharsets.UTF_8);
            if (name.length > 255) throw new ImageToolsException.BadName("extended attribute name too long: " + full);
            out.add(new Entry(index, name, value));
        }
        out.sort(Comparator.comparingInt(Entry::index).thenComparingInt(x -> x.name().length)
                .thenComparing(Entry::name, java.util.Arrays::compareUnsigned));
        return out;
    }

    /** POSIX ACLs: the VFS form (version 2, 8-byte entries) becomes ext4's (version 1, short entries for the *_OBJ tags). */
    static byte[] aclToDisk(byte[] vfs, String name) {
        if (vfs.length < 4 || (vfs.length - 4) % 8 != 0 || Le.getU32(vfs, 0) != 2)
            throw new ImageToolsException.BadSource("malformed POSIX ACL in " + name);
        java.io.ByteArrayOutputStream o = new java.io.ByteArrayOutputStream();
        byte[] w = new byte[8];
        Le.u32(w, 0, 1);
        o.write(w, 0, 4);
        for (int off = 4; off < vfs.length; off += 8) {
            int tag = Le.getU16(vfs, off), perm = Le.getU16(vfs, off + 2);
            Le.u16(w, 0, tag);
            Le.u16(w, 2, perm);
            if (tag == 2 || tag == 8) {
                Le.u32(w, 4, Le.getU32(vfs, off + 4));
                o.write(w, 0, 8);
            } else {
                o.write(w, 0, 4);
            }
        }
        return o.toByteArray();
    }

    static int hash(Entry e) {
        int h = 0;
        for (byte c : e.name()) h = (h << 5) ^ (h >>> 27) ^ c; // char is signed on x86, as e2fsprogs hashes it
        byte[] v = e.value();
        for (int off = 0; off < v.length; off += 4) {
            int word = 0;
            for (int k = 0; k < 4 && off + k < v.length; k++) word |= (v[off + k] & 0xff) << (8 * k);
            h = (h << 16) ^ (h >>> 16) ^ word;
        }
        return h;
    }

    static int pad(int n) { return (n + 3) & ~3; }

    /** Bytes the in-inode EA area needs for these attributes (magic, entries, terminator, values). */
    static int inInodeBytes(List<Entry> es) {
        int need = 4 + 4;
        for (Entry e : es) need += 16 + pad(e.name().length) + pad(e.value().length);
        return need;
    }

    static final int BLOCK_HEADER = 32;

    /** Whether these attributes fit one EA block. */
    static boolean fitBlock(List<Entry> es, int blockSize) {
        return inInodeBytes(es) - 4 + BLOCK_HEADER <= blockSize;
    }

    /** An EA block (refcount 1) holding all the attributes; its checksum is filled in with the block number. */
    static byte[] block(List<Entry> es, int blockSize) {
        byte[] b = new byte[blockSize];
        Le.u32(b, 0, MAGIC);
        Le.u32(b, 4, 1); // refcount
        Le.u32(b, 8, 1); // blocks
        int entry = BLOCK_HEADER, value = blockSize, blockHash = 0;
        for (Entry e : es) {
            value -= pad(e.value().length);
            System.arraycopy(e.value(), 0, b, value, e.value().length);
            int h = hash(e);
            Le.u8(b, entry, e.name().length);
            Le.u8(b, entry + 1, e.index());
            Le.u16(b, entry + 2, e.value().length == 0 ? 0 : value);
            Le.u32(b, entry + 8, e.value().length);
            Le.u32(b, entry + 12, h);
            System.arraycopy(e.name(), 0, b, entry + 16, e.name().length);
            entry += 16 + pad(e.name().length);
            blockHash = (blockHash << 16) ^ (blockHash >>> 16) ^ h;
        }
        Le.u32(b, 12, blockHash);
        return b;
    }

    /** Writes the EA area into {@code inode} from {@code off} to its end. */
    static void writeInInode(byte[] inode, int off, Map<String, byte[]> xattrs, int ino) {
        List<Entry> es = encode(xattrs);
        int start = off + 4;
        int areaEnd = inode.length;
        int need = inInodeBytes(es);
        if (need > areaEnd - off)
            throw new ImageToolsException.DoesNotFit("extended attributes of inode " + ino + " need " + need
                    + " bytes; at most " + (areaEnd - off) + " fit in the inode");
        Le.u32(inode, off, MAGIC);
        int entry = start, value = areaEnd;
        for (Entry e : es) {
            value -= pad(e.value().length);
            System.arraycopy(e.value(), 0, inode, value, e.value().length);
            Le.u8(inode, entry, e.name().length);
            Le.u8(inode, entry + 1, e.index());
            Le.u16(inode, entry + 2, e.value().length == 0 ? 0 : value - start);
            Le.u32(inode, entry + 4, 0);
            Le.u32(inode, entry + 8, e.value().length);
            Le.u32(inode, entry + 12, hash(e));
            System.arraycopy(e.name(), 0, inode, entry + 16, e.name().length);
            entry += 16 + pad(e.name().length);
        }
    }
}
