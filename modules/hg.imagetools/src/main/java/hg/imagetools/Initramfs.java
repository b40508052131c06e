package hg.imagetools;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.zip.GZIPOutputStream;

/**
 * Writes a tree as a cpio "newc" archive, the format the Linux kernel unpacks as its initramfs.
 * Deterministic: entries in depth-first name order (parents first), inode numbers assigned in that
 * order, a hard-linked file's data stored with its last name (as GNU cpio does), and with
 * SOURCE_DATE_EPOCH set no time later than it.
 */
public final class Initramfs {
    private final OptionalLong sourceDateEpoch;

    public Initramfs() { this(Ext4ImageWriter.envSourceDateEpoch()); }

    public Initramfs(OptionalLong sourceDateEpoch) { this.sourceDateEpoch = sourceDateEpoch; }

    private record Entry(String path, Node node) {}

    /**
     * Writes {@code tree} as a gzip-compressed cpio archive beside {@code out} and renames it over
     * {@code out} once complete; refuses an {@code out} that a running VM holds.
     */
    public void writeGzip(FsTree tree, Path out) throws IOException {
        try (OutputFile o = OutputFile.create(out)) {
            try (OutputStream f = Files.newOutputStream(o.temp());
                 GZIPOutputStream gz = new GZIPOutputStream(new BufferedOutputStream(f, 1 << 16), 1 << 16)) {
                write(tree, gz);
            }
            o.commit();
        }
    }

    /** Writes {@code tree} as an uncompressed cpio archive; does not close {@code out}. */
    public void write(FsTree tree, OutputStream rawOut) throws IOException {
        List<Entry> entries = new ArrayList<>();
        // The root as ".", as `find . | cpio -o` has it: its mode and owner survive, and an empty
        // tree is still an archive with one entry.
        entries.add(new Entry(".", tree.root()));
        walk("", tree.root(), entries);
        Map<Node, Integer> ino = new IdentityHashMap<>();
        Map<Node, Integer> links = new IdentityHashMap<>();
        Map<Node, Integer> lastIndex = new IdentityHashMap<>();
        for (int k = 0; k < entries.size(); k++) {
            Node n = entries.get(k).node();
            ino.putIfAbsent(n, ino.size() + 1);
            links.merge(n, 1, Integer::sum);
            lastIndex.put(n, k);
        }
        OutputStream out = new BufferedOutputStream(rawOut, 1 << 16);
        long[] written = {0};
        byte[] buf = new byte[1 << 16];
        for (int k = 0; k < entries.size(); k++) {
            Entry e = entries.get(k);
            Node n = e.node();
            Meta m = n.meta();
            int type;
            int nlink = links.get(n);
            long size = 0;
            int rmaj = 0, rmin = 0;
            byte[] inline = null;
            switch (n) {
                case Node.Dir d -> {
                    type = 0040000;
                    int sub = 0;
                    for (Node c : d.children().values()) if (c instanceof Node.Dir) sub++;
                    nlink = 2 + sub;
                }
                case Node.File f -> {
                    type = 0100000;
                    if (lastIndex.get(n) == k) size = f.content().size();
                }
                case Node.Symlink s -> {
                    type = 0120000;
                    inline = s.target().getBytes(StandardCharsets.UTF_8);
                    size = inline.length;
                }
                case Node.Special sp -> {
                    type = switch (sp.type()) {
                        case CHAR_DEVICE -> 0020000;
                        case BLOCK_DEVICE -> 0060000;
                        case FIFO -> 0010000;
                        case SOCKET -> 0140000;
                    };
                    rmaj = sp.major();
                    rmin = sp.minor();
                }
            }
            long mtime = m.mtimeSeconds();
            if (sourceDateEpoch.isPresent()) mtime = Math.min(mtime, sourceDateEpoch.getAsLong());
            mtime = Math.max(0, Math.min(mtime, 0xFFFF_FFFFL));
            header(out, written, ino.get(n), type | m.permissions(), m.uid(), m.gid(), nlink, mtime, size, rmaj, rmin, e.path());
            if (inline != null) {
                out.write(inline);
                written[0] += inline.length;
            } else if (size > 0) {
                long left = size;
                try (InputStream in = ((Node.File) n).content().open()) {
                    while (left > 0) {
                        int r = in.read(buf, 0, (int) Math.min(buf.length, left));
                        if (r < 0) throw new ImageToolsException.BadSource("a file became shorter while being read: " + e.path());
                        out.write(buf, 0, r);
                        left -= r;
                    }
                }
                written[0] += size;
            }
            pad(out, written);
        }
        header(out, written, 0, 0, 0, 0, 1, 0, 0, 0, 0, "TRAILER!!!");
        out.flush();
    }

    private static void walk(String prefix, Node.Dir dir, List<Entry> out) {
        for (Map.Entry<String, Node> c : dir.children().entrySet()) {
            String p = prefix + c.getKey();
            out.add(new Entry(p, c.getValue()));
            if (c.getValue() instanceof Node.Dir d) walk(p + "/", d, out);
        }
    }

    private static void header(OutputStream out, long[] written, int ino, int mode, int uid, int gid, int nlink,
                               long mtime, long size, int rmaj, int rmin, String name) throws IOException {
        if (size > 0xFFFF_FFFFL) throw new ImageToolsException.DoesNotFit("cpio newc cannot hold a file over 4 GiB: " + name);
        byte[] nb = name.getBytes(StandardCharsets.UTF_8);
        String h = String.format("070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
                ino, mode, uid, gid, nlink, mtime, size, 0, 0, rmaj, rmin, nb.length + 1, 0);
        out.write(h.getBytes(StandardCharsets.US_ASCII));
        out.write(nb);
        out.write(0);
        written[0] += h.length() + nb.length + 1;
        pad(out, written);
    }

    private static void pad(OutputStream out, long[] written) throws IOException {
        while ((written[0] & 3) != 0) {
            out.write(0);
            written[0]++;
        }
    }
}
