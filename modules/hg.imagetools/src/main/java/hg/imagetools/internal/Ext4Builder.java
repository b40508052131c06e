package hg.imagetools.internal;

import hg.imagetools.Content;
import hg.imagetools.Ext4Image;
import hg.imagetools.FsTree;
import hg.imagetools.ImageToolsException;
import hg.imagetools.Limits;
import hg.imagetools.Meta;
import hg.imagetools.Node;
import hg.imagetools.Progress;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.UUID;
import java.util.zip.CRC32C;

/**
 * Lays out and writes one ext4 image: inode numbers in depth-first name order, data blocks
 * allocated in inode order (so the data is written sequentially), then the metadata, which is
 * checksummed with a UUID that may depend on the data just written.
 *
 * <p>Shape: 4 KiB blocks, 32768 blocks per group, 256-byte inodes, no flex_bg (each group holds
 * its own bitmaps and inode table), no resize inode, sparse_super backups, 32-byte group descriptors.
 */
public final class Ext4Builder {
    static final int BS = 4096;
    static final int DEFAULT_BPG = 32768;
    static final int INODE_SIZE = 256;
    static final int EXTRA_ISIZE = 32;
    static final int FIRST_INO = 11;
    static final int ROOT_INO = 2;
    static final int JOURNAL_INO = 8;
    static final int MAX_EXTENT_LEN = 32768;
    static final int EXTENTS_PER_BLOCK = (BS - 12) / 12;
    static final int LINK_MAX = 65000;
    static final long MAX_BLOCKS = 0xFFFF_FFFFL;

    static final int S_IFIFO = 0x1000, S_IFCHR = 0x2000, S_IFDIR = 0x4000, S_IFBLK = 0x6000, S_IFREG = 0x8000,
            S_IFLNK = 0xA000, S_IFSOCK = 0xC000;
    static final int FT_REG = 1, FT_DIR = 2, FT_CHR = 3, FT_BLK = 4, FT_FIFO = 5, FT_SOCK = 6, FT_LNK = 7;
    static final int EXTENTS_FL = 0x80000;

    private final FsTree tree;
    private final OptionalLong sizeBytes;
    private final byte[] label;
    private final Optional<UUID> givenUuid;
    private final boolean journal;
    private final OptionalLong sourceDateEpoch;
    private final Progress progress;
    private int bpg = DEFAULT_BPG;

    /** Everything about one inode we write; index in {@link #inodes} is ino - 1. */
    static final class Ino {
        final int ino;
        final Node node; // null for the journal
        int links;
        int parent;
        String path = "/"; // the first name it was found under, for messages
        long size;
        long dataBlocks;
        byte[] dir; // directory blocks without checksums
        byte[] slowLink;
        // allocation: runs of physical blocks, logically contiguous from 0
        long[] runStart = new long[1];
        int[] runLen = new int[1];
        int nRuns;
        long[] treeBlocks = new long[0];
        // extended attributes too big for the inode go to one EA block
        List<Xattrs.Entry> xattrBlock;
        long xattrBlockNo;

        Ino(int ino, Node node) { this.ino = ino; this.node = node; }

        void addRun(long start, int len) {
            if (nRuns > 0 && runStart[nRuns - 1] + runLen[nRuns - 1] == start && runLen[nRuns - 1] + len <= MAX_EXTENT_LEN) {
                runLen[nRuns - 1] += len;
                return;
            }
            if (nRuns == runStart.length) {
                runStart = Arrays.copyOf(runStart, nRuns * 2);
                runLen = Arrays.copyOf(runLen, nRuns * 2);
            }
            runStart[nRuns] = start;
            runLen[nRuns++] = len;
        }
    }

    private final List<Ino> inodes = new ArrayList<>();
    private final IdentityHashMap<Node, Ino> byNode = new IdentityHashMap<>();
    private final MessageDigest digest;
    private long totalFileBytes;
    private long newestMtime;

    // layout
    private long blocks;
    private int groups;
    private int ipg;
    private int itb;
    private int gdtBlocks;
    private long journalBlocks;
    private Ino journalIno;
    private long cursor;
    private long maxBytes = Long.MAX_VALUE;

    public Ext4Builder(FsTree tree, OptionalLong sizeBytes, String label, Optional<UUID> uuid, boolean journal,
                       OptionalLong sourceDateEpoch, Progress progress) {
        this.tree = tree;
        this.sizeBytes = sizeBytes;
        this.label = label.getBytes(StandardCharsets.UTF_8);
        this.givenUuid = uuid;
        this.journal = journal;
        this.sourceDateEpoch = sourceDateEpoch;
        this.progress = progress;
        try {
            this.digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Smaller block groups (a multiple of 64, at most 32768): tests use them to get many groups and fragmented files. */
    public Ext4Builder blocksPerGroup(int n) {
        if (n < 64 || n > DEFAULT_BPG || n % 64 != 0) throw new IllegalArgumentException("blocks per group: " + n);
        this.bpg = n;
        return this;
    }

    /** The cap on the image's size, given or worked out: a hostile tree cannot ask for any size. */
    public Ext4Builder maxBytes(long n) {
        this.maxBytes = n;
        return this;
    }

    public Ext4Image write(Path out) throws IOException {
        collect();
        buildDirectories();
        chooseLayoutAndAllocate();
        try (FileChannel ch = FileChannel.open(out, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            CRC32C contentCrc = new CRC32C();
            writeData(ch, contentCrc);
            digest.update(Le.le32(Csum.value(contentCrc)));
            byte[] h = digest.digest();
            byte[] uuid = givenUuid.map(Ext4Builder::uuidBytes).orElseGet(() -> derivedUuid(h));
            MetadataWriter mw = new MetadataWriter(ch, uuid, Arrays.copyOfRange(sha256(concat(uuid, "hash-seed".getBytes(StandardCharsets.US_ASCII))), 0, 16));
            Ext4Image img = mw.write();
            ch.truncate(blocks * BS);
            if (ch.size() < blocks * BS) ch.write(ByteBuffer.wrap(new byte[1]), blocks * BS - 1);
            return img;
        }
    }

    // ---------------------------------------------------------------- collecting the tree

    private Ino add(Node node) {
        Ino i = new Ino(inodes.size() + 1, node);
        inodes.add(i);
        if (node != null) byNode.put(node, i);
        return i;
    }

    private void collect() {
        for (int n = 1; n < FIRST_INO; n++) inodes.add(null);
        Node.Dir root = tree.root();
        Ino rootIno = new Ino(ROOT_INO, root);
        inodes.set(ROOT_INO - 1, rootIno);
        byNode.put(root, rootIno);
        rootIno.parent = ROOT_INO;
        // lost+found is inode 11 as mke2fs makes it; one from the source keeps its metadata and children
        Node lf = root.child("lost+found");
        Node.Dir lostFound = lf instanceof Node.Dir d ? d : null;
        Ino lfIno = add(lostFound != null ? lostFound : new Node.Dir(new Meta(0700, 0, 0, 0)));
        lfIno.parent = ROOT_INO;
        lfIno.path = "/lost+found";
        if (lf != null && lostFound == null)
            throw new ImageToolsException.BadSource("/lost+found in the source is not a directory");

        Deque<Ino> stack = new ArrayDeque<>();
        stack.push(rootIno);
        if (lostFound != null) stack.push(lfIno);
        // depth-first pre-order: a directory's children get numbers when the directory is visited
        List<Ino> order = new ArrayList<>();
        while (!stack.isEmpty()) {
            Ino d = stack.pop();
            order.add(d);
            Node.Dir dir = (Node.Dir) d.node;
            List<Ino> subdirs = new ArrayList<>();
            for (Map.Entry<String, Node> e : dir.children().entrySet()) {
                Node c = e.getValue();
                if (d.ino == ROOT_INO && c == lostFound) { lfIno.links++; continue; }
                Ino ci = byNode.get(c);
                if (ci == null) {
                    ci = add(c);
                    ci.path = (d.ino == ROOT_INO ? "/" : d.path + "/") + e.getKey();
                    if (c instanceof Node.Dir) {
                        ci.parent = d.ino;
                        subdirs.add(ci);
                    }
                } else if (c instanceof Node.Dir) {
                    throw new ImageToolsException.BadSource("directory linked twice: " + e.getKey());
                }
                ci.links++;
            }
            for (int k = subdirs.size() - 1; k >= 0; k--) stack.push(subdirs.get(k));
        }
        if (lostFound == null) lfIno.links = 1;
        rootIno.links = 1; // "." counted below with the other directories
        for (Ino i : inodes) {
            if (i == null) continue;
            Meta m = i.node.meta();
            newestMtime = Math.max(newestMtime, m.mtimeSeconds());
            switch (i.node) {
                case Node.Dir dir -> {
                    int sub = 0;
                    for (Node c : dir.children().values()) if (c instanceof Node.Dir) sub++;
                    if (i.ino == ROOT_INO && lostFound == null) sub++;
                    long n = 2L + sub;
                    i.links = n >= LINK_MAX ? 1 : (int) n;
                }
                case Node.File f -> {
                    i.size = f.content().size();
                    i.dataBlocks = ceilDiv(i.size, BS);
                    totalFileBytes += i.size;
                }
                case Node.Symlink s -> {
                    byte[] t = s.target().getBytes(StandardCharsets.UTF_8);
                    if (t.length >= BS) throw new ImageToolsException.BadName("symlink target longer than 4095 bytes");
                    i.size = t.length;
                    if (t.length >= 60) { i.slowLink = t; i.dataBlocks = 1; }
                }
                case Node.Special sp -> { }
            }
            if (!m.xattrs().isEmpty()) {
                List<Xattrs.Entry> es = Xattrs.encode(m.xattrs());
                if (Xattrs.inInodeBytes(es) > INODE_SIZE - 128 - EXTRA_ISIZE) {
                    if (!Xattrs.fitBlock(es, BS))
                        throw new ImageToolsException.DoesNotFit("extended attributes of " + i.path + " exceed " + BS + " bytes");
                    i.xattrBlock = es;
                }
            }
            if (!(i.node instanceof Node.Dir) && i.links > LINK_MAX)
                throw new ImageToolsException.BadSource("more than " + LINK_MAX + " hard links to " + i.path);
        }
    }

    // ---------------------------------------------------------------- directories

    private static int fileType(Node n) {
        return switch (n) {
            case Node.Dir d -> FT_DIR;
            case Node.File f -> FT_REG;
            case Node.Symlink s -> FT_LNK;
            case Node.Special sp -> switch (sp.type()) {
                case CHAR_DEVICE -> FT_CHR;
                case BLOCK_DEVICE -> FT_BLK;
                case FIFO -> FT_FIFO;
                case SOCKET -> FT_SOCK;
            };
        };
    }

    /** Linear directory blocks, each ending in the 12-byte checksum tail (filled in later). */
    static final class DirBlocks {
        private byte[] buf = new byte[BS];
        private int blockStart;
        private int pos;
        private int last = -1;
        private static final int USABLE = BS - 12;

        void add(int ino, byte[] name, int type) {
            int need = (8 + name.length + 3) & ~3;
            if (pos + need > USABLE) finishBlock();
            int o = blockStart + pos;
            Le.u32(buf, o, ino);
            Le.u16(buf, o + 4, need);
            Le.u8(buf, o + 6, name.length);
            Le.u8(buf, o + 7, type);
            System.arraycopy(name, 0, buf, o + 8, name.length);
            last = pos;
            pos += need;
        }

        private void finishBlock() {
            if (last < 0) { // an empty block: one unused entry spanning it
                Le.u16(buf, blockStart + 4, USABLE);
            } else {
                Le.u16(buf, blockStart + last + 4, USABLE - last);
            }
            int t = blockStart + USABLE;
            Le.u16(buf, t + 4, 12);
            Le.u8(buf, t + 7, 0xDE);
            blockStart += BS;
            if (blockStart + BS > buf.length) buf = Arrays.copyOf(buf, buf.length * 2);
            pos = 0;
            last = -1;
        }

        byte[] finish(int minBlocks) {
            finishBlock();
            while (blockStart / BS < minBlocks) finishBlock();
            return Arrays.copyOf(buf, blockStart);
        }
    }

    private void buildDirectories() {
        for (Ino i : inodes) {
            if (i == null || !(i.node instanceof Node.Dir dir)) continue;
            DirBlocks b = new DirBlocks();
            b.add(i.ino, new byte[] {'.'}, FT_DIR);
            b.add(i.parent, new byte[] {'.', '.'}, FT_DIR);
            digest.update(Le.le32(i.ino));
            for (Map.Entry<String, Node> e : dir.children().entrySet()) {
                byte[] name = e.getKey().getBytes(StandardCharsets.UTF_8);
                Ino c = byNode.get(e.getValue());
                b.add(c.ino, name, fileType(e.getValue()));
                digest.update(name);
                digest.update(Le.le32(c.ino));
            }
            if (i.ino == ROOT_INO && !(dir.child("lost+found") instanceof Node.Dir))
                b.add(FIRST_INO, "lost+found".getBytes(StandardCharsets.US_ASCII), FT_DIR);
            i.dir = b.finish(i.ino == FIRST_INO ? 4 : 1);
            i.size = i.dir.length;
            i.dataBlocks = i.dir.length / BS;
        }
        for (Ino i : inodes) {
            if (i == null) continue;
            Meta m = i.node.meta();
            byte[] rec = new byte[48];
            Le.u32(rec, 0, i.ino);
            Le.u32(rec, 4, m.permissions());
            Le.u32(rec, 8, m.uid());
            Le.u32(rec, 12, m.gid());
            Le.u64(rec, 16, m.mtimeSeconds());
            Le.u32(rec, 24, m.mtimeNanos());
            Le.u64(rec, 28, i.size);
            Le.u32(rec, 36, i.links);
            Le.u32(rec, 40, fileType(i.node));
            digest.update(rec);
            if (i.node instanceof Node.Symlink s) digest.update(s.target().getBytes(StandardCharsets.UTF_8));
            if (i.node instanceof Node.Special sp) { digest.update(Le.le32(sp.major())); digest.update(Le.le32(sp.minor())); }
            for (Map.Entry<String, byte[]> x : m.xattrs().entrySet()) {
                digest.update(x.getKey().getBytes(StandardCharsets.UTF_8));
                digest.update(x.getValue());
            }
        }
    }

    // ---------------------------------------------------------------- layout and allocation

    static boolean hasSuper(long g) {
        if (g <= 1) return true;
        for (int p : new int[] {3, 5, 7}) {
            long x = p;
            while (x < g) x *= p;
            if (x == g) return true;
        }
        return false;
    }

    long groupStart(int g) { return (long) g * bpg; }

    long groupEnd(int g) { return Math.min(groupStart(g + 1), blocks); }

    long blockBitmap(int g) { return groupStart(g) + (hasSuper(g) ? 1 + gdtBlocks : 0); }

    long inodeBitmap(int g) { return blockBitmap(g) + 1; }

    long inodeTable(int g) { return blockBitmap(g) + 2; }

    long dataStart(int g) { return inodeTable(g) + itb; }

    static long defaultJournalBlocks(long blocks) {
        if (blocks < 2048) return 0;
        if (blocks < 32768) return 1024;
        if (blocks < 256 * 1024) return 4096;
        if (blocks < 512 * 1024) return 8192;
        if (blocks < 4096 * 1024) return 16384;
        if (blocks < 8192 * 1024) return 32768;
        if (blocks < 16384 * 1024) return 65536;
        if (blocks < 32768 * 1024) return 131072;
        return 262144;
    }

    private void chooseLayoutAndAllocate() {
        long used = 0;
        for (Ino i : inodes) if (i != null) used += i.dataBlocks + (i.xattrBlock != null ? 1 : 0);
        long inodesUsed = inodes.size();
        if (sizeBytes.isPresent()) {
            long n = sizeBytes.getAsLong() / BS;
            if (n * BS > maxBytes) throw overCap("an image of " + Limits.size(n * BS));
            String why = tryLayout(n, inodesUsed);
            if (why != null) throw new ImageToolsException.DoesNotFit(why);
            return;
        }
        // headroom: a fifth of the data, at least 16 MiB free
        long n = used + Math.max(used / 5, 4096) + inodesUsed / 16 + 64;
        n += defaultJournalBlocks(n);
        for (int tries = 0; ; tries++) {
            n += (n / bpg + 1) * (2 + 2 + itbFor(n, inodesUsed)); // per-group metadata
            if (n * BS > maxBytes) throw overCap("the tree needs an image of at least " + (n * BS >> 20) + " MiB");
            String why = tryLayout(n, inodesUsed);
            if (why == null) return;
            if (tries > 40) throw new ImageToolsException.DoesNotFit(why);
            n = n + n / 8 + 1024;
        }
    }

    private ImageToolsException overCap(String what) {
        return new ImageToolsException.OverLimit(what + ", over the cap of " + Limits.size(maxBytes) + " on image size (--max-image)");
    }

    private int groupsFor(long n) { return (int) ceilDiv(n, bpg); }

    private int ipgFor(long n, long inodesUsed) {
        int g = groupsFor(n);
        long wanted = Math.max(n / 4, inodesUsed + Math.max(inodesUsed / 5, 64));
        long per = ceilDiv(wanted, g);
        per = (per + 15) & ~15L;
        return (int) Math.min(Math.max(per, 16), BS * 8);
    }

    private int itbFor(long n, long inodesUsed) { return ipgFor(n, inodesUsed) * INODE_SIZE / BS; }

    /** Sets up the layout for {@code n} blocks and allocates everything; returns why it does not fit, or null. */
    private String tryLayout(long n, long inodesUsed) {
        if (n > MAX_BLOCKS) return "image of " + n + " blocks is larger than 16 TiB";
        groups = groupsFor(n);
        ipg = ipgFor(n, inodesUsed);
        itb = ipg * INODE_SIZE / BS;
        gdtBlocks = (int) ceilDiv(groups * 32L, BS);
        blocks = n;
        // a last group too small for its own metadata is dropped, as mke2fs does
        if (groups > 1 && groupEnd(groups - 1) - groupStart(groups - 1) < (dataStart(groups - 1) - groupStart(groups - 1)) + 64) {
            blocks = groupStart(groups - 1);
            groups--;
            gdtBlocks = (int) ceilDiv(groups * 32L, BS);
        }
        if (blocks < 64 || dataStart(0) + 16 > blocks) return "image of " + (n * BS >> 10) + " KiB is too small for an ext4 filesystem";
        if ((long) ipg * groups < inodesUsed)
            return "the tree has " + inodesUsed + " inodes; an image of " + mib(blocks) + " holds at most " + (long) ipg * groups;
        for (Ino i : inodes) if (i != null) { i.nRuns = 0; i.treeBlocks = new long[0]; }
        cursor = dataStart(0);
        journalBlocks = journal ? Math.max(defaultJournalBlocks(blocks), 1024) : 0;
        if (journal) {
            journalIno = new Ino(JOURNAL_INO, null);
            journalIno.dataBlocks = journalBlocks;
            journalIno.size = journalBlocks * BS;
            journalIno.links = 1;
            if (!allocate(journalIno)) return doesNotFit();
        }
        for (Ino i : inodes) {
            if (i == null) continue;
            if (!allocate(i)) return doesNotFit();
        }
        return null;
    }

    private String doesNotFit() {
        long need = journalBlocks;
        for (Ino i : inodes) if (i != null) need += i.dataBlocks;
        return "the tree needs about " + mib(need + (long) groups * (2 + itb)) + " but the image is " + mib(blocks);
    }

    private static String mib(long blocks) { return (blocks * BS + (1 << 20) - 1 >> 20) + " MiB"; }

    /** Allocates data blocks and then extent tree blocks for one inode; false when the image is full. */
    private boolean allocate(Ino i) {
        long want = i.dataBlocks;
        while (want > 0) {
            long start = nextFree();
            if (start < 0) return false;
            int g = (int) (start / bpg);
            int len = (int) Math.min(Math.min(want, groupEnd(g) - start), MAX_EXTENT_LEN);
            i.addRun(start, len);
            cursor = start + len;
            want -= len;
        }
        int n = i.nRuns, tb = 0;
        while (n > 4) { n = (int) ceilDiv(n, EXTENTS_PER_BLOCK); tb += n; }
        i.treeBlocks = new long[tb];
        for (int k = 0; k < tb; k++) {
            long b = nextFree();
            if (b < 0) return false;
            i.treeBlocks[k] = b;
            cursor = b + 1;
        }
        if (i.xattrBlock != null) {
            long b = nextFree();
            if (b < 0) return false;
            i.xattrBlockNo = b;
            cursor = b + 1;
        }
        return true;
    }

    private long nextFree() {
        while (true) {
            if (cursor >= blocks) return -1;
            int g = (int) (cursor / bpg);
            if (cursor < dataStart(g)) cursor = dataStart(g);
            if (cursor < groupEnd(g)) return cursor;
            cursor = groupStart(g + 1);
        }
    }

    // ---------------------------------------------------------------- data

    private void writeData(FileChannel ch, CRC32C crc) throws IOException {
        byte[] buf = new byte[1 << 20];
        long done = 0;
        progress.update("writing files", 0, totalFileBytes);
        for (Ino i : inodes) {
            if (i == null) continue;
            if (i.slowLink != null) {
                writeNonZero(ch, ByteBuffer.wrap(i.slowLink), i.runStart[0] * BS);
                continue;
            }
            if (!(i.node instanceof Node.File f) || i.size == 0) continue;
            Content c = f.content();
            try (InputStream in = c.open()) {
                long left = i.size;
                for (int r = 0; r < i.nRuns && left > 0; r++) {
                    long pos = i.runStart[r] * BS;
                    long runBytes = Math.min((long) i.runLen[r] * BS, left);
                    while (runBytes > 0) {
                        int want = (int) Math.min(buf.length, runBytes);
                        int got = in.readNBytes(buf, 0, want);
                        if (got < want)
                            throw new ImageToolsException.BadSource("a file became shorter while being read (expected " + i.size + " bytes): " + describe(i));
                        crc.update(buf, 0, got);
                        writeNonZero(ch, ByteBuffer.wrap(buf, 0, got), pos);
                        pos += got;
                        runBytes -= got;
                        left -= got;
                        done += got;
                    }
                    progress.update("writing files", done, totalFileBytes);
                }
            }
        }
        progress.update("writing files", totalFileBytes, totalFileBytes);
    }

    private static String describe(Ino i) {
        return i.path;
    }

    private static final byte[] ZERO_BLOCK = new byte[BS];

    /** Writes the buffer at {@code pos}, skipping whole zero blocks so the image stays sparse. */
    static void writeNonZero(FileChannel ch, ByteBuffer b, long pos) throws IOException {
        byte[] a = b.array();
        int off = b.arrayOffset() + b.position(), end = off + b.remaining();
        int runStart = -1;
        for (int o = off; o < end; o += BS) {
            int len = Math.min(BS, end - o);
            boolean zero = Arrays.mismatch(a, o, o + len, ZERO_BLOCK, 0, len) < 0;
            if (!zero && runStart < 0) runStart = o;
            if (zero && runStart >= 0) {
                writeFully(ch, ByteBuffer.wrap(a, runStart, o - runStart), pos + (runStart - off));
                runStart = -1;
            }
        }
        if (runStart >= 0) writeFully(ch, ByteBuffer.wrap(a, runStart, end - runStart), pos + (runStart - off));
    }

    static void writeFully(FileChannel ch, ByteBuffer b, long pos) throws IOException {
        while (b.hasRemaining()) pos += ch.write(b, pos);
    }

    // ---------------------------------------------------------------- metadata

    private final class MetadataWriter {
        final FileChannel ch;
        final byte[] uuid;
        final byte[] hashSeed;
        final Csum csum;
        final long[] blockBitmap; // one bit per block of the image
        final int time;

        MetadataWriter(FileChannel ch, byte[] uuid, byte[] hashSeed) {
            this.ch = ch;
            this.uuid = uuid;
            this.hashSeed = hashSeed;
            this.csum = new Csum(uuid);
            this.blockBitmap = new long[(int) ceilDiv((long) groups * bpg, 64)];
            // without SOURCE_DATE_EPOCH: the newest time in the tree, but never in the future (e2fsck objects);
            // a second back, because e2fsck reads time(2), a coarse clock that may still show the last second
            long t = sourceDateEpoch.orElse(Math.min(newestMtime, System.currentTimeMillis() / 1000 - 1));
            this.time = (int) Math.max(0, Math.min(t, 0xFFFF_FFFFL));
        }

        void mark(long start, long len) {
            for (long b = start; b < start + len; b++) blockBitmap[(int) (b >>> 6)] |= 1L << (b & 63);
        }

        Ext4Image write() throws IOException {
            progress.update("writing metadata", 0, 1);
            for (int g = 0; g < groups; g++) mark(groupStart(g), dataStart(g) - groupStart(g));
            if (journalIno != null) markInode(journalIno);
            for (Ino i : inodes) if (i != null) markInode(i);
            // blocks past the end of the last group are "in use" padding
            mark(blocks, (long) groups * bpg - blocks);

            for (Ino i : inodes) if (i != null && i.dir != null) writeDirectory(i);
            for (Ino i : inodes) if (i != null && i.xattrBlock != null) writeXattrBlock(i);
            if (journalIno != null) writeJournalSuperblock();

            byte[][] roots = new byte[inodes.size() + 1][];
            if (journalIno != null) roots[JOURNAL_INO] = extentTree(journalIno);
            for (Ino i : inodes) if (i != null && i.nRuns > 0) roots[i.ino] = extentTree(i);

            long freeInodes = 0, freeBlocks = 0;
            byte[] gdt = new byte[gdtBlocks * BS];
            int lastIno = inodes.size();
            for (int g = 0; g < groups; g++) {
                int first = g * ipg + 1;
                int usedHere = Math.max(0, Math.min(ipg, lastIno - first + 1));
                int dirs = 0;
                byte[] table = new byte[usedHere * INODE_SIZE];
                byte[] ibm = new byte[BS];
                for (int k = 0; k < usedHere; k++) {
                    int ino = first + k;
                    ibm[k >>> 3] |= (byte) (1 << (k & 7));
                    byte[] raw = inodeBytes(ino, roots[ino]);
                    if (raw != null) System.arraycopy(raw, 0, table, k * INODE_SIZE, INODE_SIZE);
                    Ino i = inodes.get(ino - 1);
                    if (i != null && i.node instanceof Node.Dir) dirs++;
                }
                for (int k = ipg; k < BS * 8; k++) ibm[k >>> 3] |= (byte) (1 << (k & 7));
                writeSparse(table, inodeTable(g) * BS);
                writeSparse(ibm, inodeBitmap(g) * BS);

                byte[] bbm = new byte[BS];
                long base = groupStart(g);
                ByteBuffer.wrap(bbm).order(java.nio.ByteOrder.LITTLE_ENDIAN).asLongBuffer()
                        .put(blockBitmap, (int) (base >>> 6), bpg / 64);
                int usedBlocks = 0;
                for (int k = 0; k < bpg / 64; k++) usedBlocks += Long.bitCount(blockBitmap[(int) (base >>> 6) + k]);
                for (int k = bpg; k < BS * 8; k++) bbm[k >>> 3] |= (byte) (1 << (k & 7)); // past the group: "in use"
                int free = bpg - usedBlocks; // padding bits are set, so they are not counted free
                writeSparse(bbm, blockBitmap(g) * BS);
                freeBlocks += free;
                freeInodes += ipg - usedHere;

                int d = g * 32;
                Le.u32(gdt, d, blockBitmap(g));
                Le.u32(gdt, d + 4, inodeBitmap(g));
                Le.u32(gdt, d + 8, inodeTable(g));
                Le.u16(gdt, d + 0x0C, free);
                Le.u16(gdt, d + 0x0E, ipg - usedHere);
                Le.u16(gdt, d + 0x10, dirs);
                Le.u16(gdt, d + 0x12, 0x4); // EXT4_BG_INODE_ZEROED
                CRC32C c = csum.seeded();
                c.update(bbm, 0, bpg / 8);
                Le.u16(gdt, d + 0x18, Csum.value(c));
                c = csum.seeded();
                c.update(ibm, 0, ipg / 8);
                Le.u16(gdt, d + 0x1A, Csum.value(c));
                Le.u16(gdt, d + 0x1C, ipg - usedHere);
                c = csum.seeded();
                c.update(Le.le32(g));
                c.update(gdt, d, 0x1E);
                c.update(new byte[2]);
                Le.u16(gdt, d + 0x1E, Csum.value(c));
                progress.update("writing metadata", g + 1, groups);
            }
            for (int g = 0; g < groups; g++) {
                if (!hasSuper(g)) continue;
                byte[] sb = superblock(g, freeBlocks, freeInodes, roots[JOURNAL_INO]);
                writeFully(ch, ByteBuffer.wrap(sb), g == 0 ? 1024 : groupStart(g) * BS);
                writeFully(ch, ByteBuffer.wrap(gdt), (groupStart(g) + 1) * BS);
            }
            return new Ext4Image(blocks * BS, blocks, freeBlocks, (long) ipg * groups, freeInodes, fromBytes(uuid));
        }

        void markInode(Ino i) {
            for (int r = 0; r < i.nRuns; r++) mark(i.runStart[r], i.runLen[r]);
            for (long b : i.treeBlocks) mark(b, 1);
            if (i.xattrBlock != null) mark(i.xattrBlockNo, 1);
        }

        void writeXattrBlock(Ino i) throws IOException {
            byte[] b = Xattrs.block(i.xattrBlock, BS);
            CRC32C c = csum.seeded();
            byte[] nr = new byte[8];
            Le.u64(nr, 0, i.xattrBlockNo);
            c.update(nr);
            c.update(b);
            Le.u32(b, 16, Csum.value(c));
            writeFully(ch, ByteBuffer.wrap(b), i.xattrBlockNo * BS);
        }

        void writeSparse(byte[] data, long pos) throws IOException {
            writeNonZero(ch, ByteBuffer.wrap(data), pos);
        }

        void writeDirectory(Ino i) throws IOException {
            byte[] d = i.dir;
            for (int off = 0; off < d.length; off += BS) {
                CRC32C c = csum.inodeSeeded(i.ino, 0);
                c.update(d, off, BS - 12);
                Le.u32(d, off + BS - 4, Csum.value(c));
            }
            long logical = 0;
            for (int r = 0; r < i.nRuns; r++) {
                writeFully(ch, ByteBuffer.wrap(d, (int) (logical * BS), i.runLen[r] * BS), i.runStart[r] * BS);
                logical += i.runLen[r];
            }
        }

        void writeJournalSuperblock() throws IOException {
            byte[] j = new byte[1024];
            Le.be32(j, 0, 0xC03B3998L);
            Le.be32(j, 4, 4); // superblock v2
            Le.be32(j, 8, 0);
            Le.be32(j, 0x0C, BS);
            Le.be32(j, 0x10, journalBlocks);
            Le.be32(j, 0x14, 1); // first log block
            Le.be32(j, 0x18, 1); // first expected commit id
            Le.be32(j, 0x1C, 0); // s_start 0: clean, nothing to replay
            System.arraycopy(uuid, 0, j, 0x30, 16);
            Le.be32(j, 0x40, 1); // nr_users
            writeFully(ch, ByteBuffer.wrap(j), journalIno.runStart[0] * BS);
        }

        /** The 60-byte i_block: an extent tree root, with index/leaf blocks written out here when it is deep. */
        byte[] extentTree(Ino i) throws IOException {
            int n = i.nRuns;
            // level 0: the leaf entries
            List<byte[]> level = new ArrayList<>(n);
            long[] firstLogical = new long[n];
            long logical = 0;
            for (int r = 0; r < n; r++) {
                byte[] e = new byte[12];
                Le.u32(e, 0, logical);
                Le.u16(e, 4, i.runLen[r]);
                Le.u16(e, 6, (int) (i.runStart[r] >>> 32));
                Le.u32(e, 8, i.runStart[r]);
                level.add(e);
                firstLogical[r] = logical;
                logical += i.runLen[r];
            }
            int depth = 0, tb = 0;
            while (level.size() > 4) {
                int blocksHere = (int) ceilDiv(level.size(), EXTENTS_PER_BLOCK);
                List<byte[]> up = new ArrayList<>(blocksHere);
                long[] upLogical = new long[blocksHere];
                for (int b = 0; b < blocksHere; b++) {
                    int from = b * EXTENTS_PER_BLOCK, to = Math.min(level.size(), from + EXTENTS_PER_BLOCK);
                    long pb = i.treeBlocks[tb++];
                    byte[] blk = new byte[BS];
                    header(blk, to - from, EXTENTS_PER_BLOCK, depth);
                    for (int k = from; k < to; k++) System.arraycopy(level.get(k), 0, blk, 12 + (k - from) * 12, 12);
                    CRC32C c = csum.inodeSeeded(i.ino, 0);
                    c.update(blk, 0, 12 + 12 * EXTENTS_PER_BLOCK);
                    Le.u32(blk, 12 + 12 * EXTENTS_PER_BLOCK, Csum.value(c));
                    writeFully(ch, ByteBuffer.wrap(blk), pb * BS);
                    byte[] idx = new byte[12];
                    Le.u32(idx, 0, firstLogical[from]);
                    Le.u32(idx, 4, pb);
                    Le.u16(idx, 8, (int) (pb >>> 32));
                    up.add(idx);
                    upLogical[b] = firstLogical[from];
                }
                level = up;
                firstLogical = upLogical;
                depth++;
            }
            byte[] root = new byte[60];
            header(root, level.size(), 4, depth);
            for (int k = 0; k < level.size(); k++) System.arraycopy(level.get(k), 0, root, 12 + k * 12, 12);
            return root;
        }

        void header(byte[] b, int entries, int max, int depth) {
            Le.u16(b, 0, 0xF30A);
            Le.u16(b, 2, entries);
            Le.u16(b, 4, max);
            Le.u16(b, 6, depth);
        }

        byte[] inodeBytes(int ino, byte[] extentRoot) {
            Ino i = ino == JOURNAL_INO ? journalIno : inodes.get(ino - 1);
            if (i == null) return null;
            byte[] b = new byte[INODE_SIZE];
            int mode, flags = 0;
            Meta m = i.node == null ? new Meta(0600, 0, 0, time) : i.node.meta();
            long mtime = m.mtimeSeconds();
            int nanos = m.mtimeNanos();
            if (sourceDateEpoch.isPresent() && mtime > sourceDateEpoch.getAsLong()) { mtime = sourceDateEpoch.getAsLong(); nanos = 0; }
            switch (i.node) {
                case null -> mode = S_IFREG;
                case Node.Dir d -> mode = S_IFDIR;
                case Node.File f -> mode = S_IFREG;
                case Node.Symlink s -> {
                    mode = S_IFLNK;
                    if (i.slowLink == null) {
                        byte[] t = s.target().getBytes(StandardCharsets.UTF_8);
                        System.arraycopy(t, 0, b, 0x28, t.length);
                    }
                }
                case Node.Special sp -> {
                    mode = switch (sp.type()) {
                        case CHAR_DEVICE -> S_IFCHR;
                        case BLOCK_DEVICE -> S_IFBLK;
                        case FIFO -> S_IFIFO;
                        case SOCKET -> S_IFSOCK;
                    };
                    if (sp.type() == Node.Special.Type.CHAR_DEVICE || sp.type() == Node.Special.Type.BLOCK_DEVICE) {
                        int maj = sp.major(), min = sp.minor();
                        if (maj < 256 && min < 256) Le.u32(b, 0x28, (maj << 8) | min);
                        else Le.u32(b, 0x2C, (min & 0xff) | ((maj & 0xfff) << 8) | ((long) (min & ~0xff) << 12));
                    }
                }
            }
            if (extentRoot != null || i.node instanceof Node.File || i.node instanceof Node.Dir) {
                flags |= EXTENTS_FL;
                if (extentRoot == null) { extentRoot = new byte[60]; header(extentRoot, 0, 4, 0); }
                System.arraycopy(extentRoot, 0, b, 0x28, 60);
            }
            Le.u16(b, 0, mode | m.permissions());
            Le.u16(b, 0x02, m.uid() & 0xffff);
            Le.u32(b, 0x04, i.size);
            Le.u32(b, 0x6C, i.size >>> 32);
            time(b, 0x08, 0x8C, mtime, nanos); // atime
            time(b, 0x0C, 0x84, mtime, nanos); // ctime
            time(b, 0x10, 0x88, mtime, nanos); // mtime
            time(b, 0x90, 0x94, mtime, nanos); // crtime
            Le.u16(b, 0x18, m.gid() & 0xffff);
            Le.u16(b, 0x1A, i.links);
            long sectors = (i.dataBlocks + i.treeBlocks.length + (i.xattrBlock != null ? 1 : 0)) * (BS / 512);
            if (i.xattrBlock != null) {
                Le.u32(b, 0x68, i.xattrBlockNo);
                Le.u16(b, 0x76, (int) (i.xattrBlockNo >>> 32));
            }
            Le.u32(b, 0x1C, sectors);
            Le.u16(b, 0x74, (int) (sectors >>> 32));
            Le.u32(b, 0x20, flags);
            Le.u16(b, 0x78, m.uid() >>> 16);
            Le.u16(b, 0x7A, m.gid() >>> 16);
            Le.u16(b, 0x80, EXTRA_ISIZE);
            if (!m.xattrs().isEmpty() && i.xattrBlock == null) Xattrs.writeInInode(b, 128 + EXTRA_ISIZE, m.xattrs(), ino);
            CRC32C c = csum.inodeSeeded(ino, 0);
            c.update(b);
            int v = Csum.value(c);
            Le.u16(b, 0x7C, v);
            Le.u16(b, 0x82, v >>> 16);
            return b;
        }

        void time(byte[] b, int off, int extraOff, long seconds, int nanos) {
            long s = Math.max(Integer.MIN_VALUE, Math.min(seconds, 0x3_7FFF_FFFFL));
            Le.u32(b, off, (int) s);
            long epoch = ((s - (int) s) >> 32) & 3;
            Le.u32(b, extraOff, epoch | ((long) nanos << 2));
        }

        byte[] superblock(int group, long freeBlocks, long freeInodes, byte[] journalRoot) {
            byte[] s = new byte[1024];
            Le.u32(s, 0x00, (long) ipg * groups);
            Le.u32(s, 0x04, blocks);
            Le.u32(s, 0x08, 0);
            Le.u32(s, 0x0C, freeBlocks);
            Le.u32(s, 0x10, freeInodes);
            Le.u32(s, 0x14, 0); // first data block (4 KiB blocks)
            Le.u32(s, 0x18, 2); // log2(4096) - 10
            Le.u32(s, 0x1C, 2);
            Le.u32(s, 0x20, bpg);
            Le.u32(s, 0x24, bpg);
            Le.u32(s, 0x28, ipg);
            Le.u32(s, 0x2C, 0); // mount time
            Le.u32(s, 0x30, time); // write time
            Le.u16(s, 0x34, 0);
            Le.u16(s, 0x36, 0xFFFF); // max mount count: none
            Le.u16(s, 0x38, 0xEF53);
            Le.u16(s, 0x3A, 1); // clean
            Le.u16(s, 0x3C, 1); // errors: continue
            Le.u32(s, 0x40, time); // last check
            Le.u32(s, 0x4C, 1); // dynamic revision
            Le.u32(s, 0x54, FIRST_INO);
            Le.u16(s, 0x58, INODE_SIZE);
            Le.u16(s, 0x5A, group);
            Le.u32(s, 0x5C, 0x8 | (journal ? 0x4 : 0)); // ext_attr, has_journal
            Le.u32(s, 0x60, 0x2 | 0x40); // filetype, extents
            Le.u32(s, 0x64, 0x1 | 0x2 | 0x8 | 0x20 | 0x40 | 0x400); // sparse_super, large_file, huge_file, dir_nlink, extra_isize, metadata_csum
            System.arraycopy(uuid, 0, s, 0x68, 16);
            System.arraycopy(label, 0, s, 0x78, label.length);
            if (journal) {
                Le.u32(s, 0xE0, JOURNAL_INO);
                Le.u8(s, 0xFD, 1); // s_jnl_backup_type: the inode's i_block copy follows
                System.arraycopy(journalRoot, 0, s, 0x10C, 60);
                Le.u32(s, 0x10C + 60, (journalBlocks * BS) >>> 32);
                Le.u32(s, 0x10C + 64, journalBlocks * BS);
            }
            System.arraycopy(hashSeed, 0, s, 0xEC, 16);
            Le.u8(s, 0xFC, 1); // half_md4
            Le.u32(s, 0x100, 0x000C); // default mount options: user_xattr, acl
            Le.u32(s, 0x108, time); // mkfs time
            Le.u16(s, 0x15C, EXTRA_ISIZE);
            Le.u16(s, 0x15E, EXTRA_ISIZE);
            Le.u32(s, 0x160, 0x1); // signed directory hash
            Le.u8(s, 0x175, 1); // checksum type crc32c
            Le.u32(s, 0x3FC, Csum.plain(s, 0, 0x3FC));
            return s;
        }
    }

    // ---------------------------------------------------------------- helpers

    static long ceilDiv(long a, long b) { return (a + b - 1) / b; }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    static byte[] sha256(byte[] in) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(in);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static byte[] derivedUuid(byte[] hash) {
        byte[] u = Arrays.copyOf(hash, 16);
        u[6] = (byte) ((u[6] & 0x0f) | 0x40); // looks like a random (v4) UUID to tools that care
        u[8] = (byte) ((u[8] & 0x3f) | 0x80);
        return u;
    }

    static byte[] uuidBytes(UUID u) {
        ByteBuffer b = ByteBuffer.allocate(16);
        b.putLong(u.getMostSignificantBits()).putLong(u.getLeastSignificantBits());
        return b.array();
    }

    static UUID fromBytes(byte[] u) {
        ByteBuffer b = ByteBuffer.wrap(u);
        return new UUID(b.getLong(), b.getLong());
    }
}
