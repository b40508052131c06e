package hg.imagetools.internal;

import hg.imagetools.Content;
import hg.imagetools.FsTree;
import hg.imagetools.ImageToolsException;
import hg.imagetools.Limits;
import hg.imagetools.Meta;
import hg.imagetools.Node;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.compress.archivers.ar.ArArchiveEntry;
import org.apache.commons.compress.archivers.ar.ArArchiveInputStream;
import org.apache.commons.compress.archivers.cpio.CpioArchiveEntry;
import org.apache.commons.compress.archivers.cpio.CpioArchiveInputStream;

/** Archive sources: tar, cpio, Debian packages and container images, recognised by content. */
public final class ArchiveSources {
    private ArchiveSources() {}

    public enum Format { TAR, CPIO, DEB, UNKNOWN }

    /** What kind of archive {@code file} holds (after any compression). */
    public static Format sniff(Path file) throws IOException {
        try (InputStream raw = Files.newInputStream(file)) {
            byte[] head = new byte[8];
            int n = raw.readNBytes(head, 0, 8);
            if (n == 8 && new String(head, StandardCharsets.ISO_8859_1).equals("!<arch>\n")) return Format.DEB;
        }
        try (InputStream raw = Files.newInputStream(file); InputStream in = Decompress.open(raw, file.toString())) {
            byte[] h = new byte[512];
            int n = in.readNBytes(h, 0, 512);
            String s = new String(h, 0, Math.max(0, Math.min(n, 6)), StandardCharsets.ISO_8859_1);
            if (s.equals("070701") || s.equals("070702") || s.equals("070707")) return Format.CPIO;
            if (n >= 2 && ((h[0] & 0xff) == 0xc7 && (h[1] & 0xff) == 0x71 || (h[0] & 0xff) == 0x71 && (h[1] & 0xff) == 0xc7)) return Format.CPIO;
            if (n == 512 && new String(h, 257, 5, StandardCharsets.ISO_8859_1).equals("ustar")) return Format.TAR;
            if (n == 512 && tarChecksumOk(h)) return Format.TAR; // old v7 tar
            return Format.UNKNOWN;
        } catch (ImageToolsException e) {
            throw e;
        } catch (IOException e) {
            throw new ImageToolsException.BadSource(file + ": broken compressed data (" + Decompress.reason(e) + ")", e);
        }
    }

    private static boolean tarChecksumOk(byte[] h) {
        String f = new String(h, 148, 8, StandardCharsets.ISO_8859_1).trim().replace("\0", "");
        if (f.isEmpty()) return false;
        try {
            long want = Long.parseLong(f.trim(), 8);
            long sum = 0;
            for (int i = 0; i < 512; i++) sum += (i >= 148 && i < 156) ? ' ' : (h[i] & 0xff);
            return sum == want;
        } catch (NumberFormatException e) {
            return false;
        }
    }

    public static FsTree readFile(Path file, Limits limits) throws IOException {
        Format f = sniff(file);
        FsTree tree = new FsTree(limits);
        Budget budget = new Budget(limits);
        try {
            switch (f) {
                case DEB -> readDeb(tree, file, budget);
                case CPIO -> {
                    try (InputStream in = Files.newInputStream(file)) { readCpio(tree, in, file.toString(), budget); }
                }
                case TAR -> readTarOrImage(tree, file, budget);
                case UNKNOWN -> throw new ImageToolsException.BadSource(file + ": not a directory, tar, cpio, .deb or container image");
            }
            return tree;
        } catch (RuntimeException | IOException e) {
            tree.close();
            throw e;
        }
    }

    // ---------------------------------------------------------------- deb

    static void readDeb(FsTree tree, Path file, Budget budget) throws IOException {
        boolean found = false;
        // metered for the header cap: an ar's name table is read into memory however long it says it is
        try (MeteredInput raw = new MeteredInput(new BufferedInputStream(Files.newInputStream(file), 1 << 16), budget, file.toString());
             ArArchiveInputStream ar = new ArArchiveInputStream(raw)) {
            ArArchiveEntry e;
            while ((e = raw.next(ar)) != null) {
                if (e.getName().startsWith("data.tar")) {
                    TarSource.readInto(tree, nonClosing(ar), file + ":" + e.getName(), budget);
                    found = true;
                    break;
                }
            }
        } catch (ImageToolsException x) {
            throw x;
        } catch (IOException | RuntimeException x) {
            throw new ImageToolsException.BadSource(file + ": broken Debian package (" + Decompress.reason(x) + ")", x);
        }
        if (!found) throw new ImageToolsException.BadSource(file + ": Debian package without a data.tar member");
    }

    private static InputStream nonClosing(InputStream in) {
        return new java.io.FilterInputStream(in) {
            @Override public void close() {}
        };
    }

    // ---------------------------------------------------------------- cpio

    public static void readCpio(FsTree tree, InputStream raw, String what, Budget budget) throws IOException {
        Map<List<Long>, Node> links = new HashMap<>();
        int count = 0;
        try (MeteredInput in = Decompress.open(raw, what, budget); CpioArchiveInputStream cpio = new CpioArchiveInputStream(in)) {
            CpioArchiveEntry e;
            while ((e = in.next(cpio)) != null) {
                count++;
                long mode = e.getMode();
                Meta meta = new Meta((int) (mode & 07777), (int) e.getUID(), (int) e.getGID(), e.getTime() / 1000, 0, Map.of());
                String name = e.getName();
                if (name.equals(".") || name.isEmpty()) {
                    tree.root().meta(meta);
                    continue;
                }
                int type = (int) (mode & 0xF000);
                List<Long> key = List.of(e.getDeviceMaj(), e.getDeviceMin(), e.getInode());
                Node n = switch (type) {
                    case 0x4000 -> new Node.Dir(meta);
                    case 0x8000 -> {
                        Content body = tree.store(cpio, e.getSize());
                        Node prev = e.getNumberOfLinks() > 1 ? links.get(key) : null;
                        if (prev instanceof Node.File pf) {
                            if (e.getSize() > 0) pf.content(body);
                            yield pf;
                        }
                        yield new Node.File(meta, body);
                    }
                    case 0xA000 -> new Node.Symlink(meta, symlinkTarget(cpio, e, what));
                    case 0x2000, 0x6000 -> new Node.Special(meta, type == 0x2000 ? Node.Special.Type.CHAR_DEVICE : Node.Special.Type.BLOCK_DEVICE,
                            (int) e.getRemoteDeviceMaj(), (int) e.getRemoteDeviceMin());
                    case 0x1000 -> new Node.Special(meta, Node.Special.Type.FIFO, 0, 0);
                    case 0xC000 -> new Node.Special(meta, Node.Special.Type.SOCKET, 0, 0);
                    default -> throw new ImageToolsException.BadSource(what + ": unknown file type " + Long.toOctalString(mode) + " of " + name);
                };
                if (type != 0x4000 && e.getNumberOfLinks() > 1) links.putIfAbsent(key, n);
                tree.put(name, n);
            }
        } catch (ImageToolsException x) {
            throw x;
        } catch (IOException | RuntimeException x) {
            throw new ImageToolsException.BadSource(what + ": broken cpio archive (" + Decompress.reason(x) + ")", x);
        }
        if (count == 0) throw new ImageToolsException.BadSource(what + ": empty cpio archive");
    }

    /** A cpio symlink's target is its body; its size is checked before anything is read. */
    private static String symlinkTarget(CpioArchiveInputStream cpio, CpioArchiveEntry e, String what) throws IOException {
        if (e.getSize() > Limits.MAX_SYMLINK_TARGET_BYTES)
            throw new ImageToolsException.OverLimit(what + ": symlink target of " + e.getName() + " is longer than "
                    + Limits.MAX_SYMLINK_TARGET_BYTES + " bytes");
        byte[] b = cpio.readNBytes((int) e.getSize());
        if (b.length != e.getSize()) throw new ImageToolsException.BadSource(what + ": symlink " + e.getName() + " ends early");
        return new String(b, StandardCharsets.UTF_8);
    }

    // ---------------------------------------------------------------- tar and container images

    static void readTarOrImage(FsTree tree, Path file, Budget budget) throws IOException {
        List<TarSource.Member> members;
        try (InputStream in = Files.newInputStream(file)) {
            members = TarSource.members(tree, in, file.toString(), budget);
        }
        Map<String, Content> byName = new LinkedHashMap<>();
        for (TarSource.Member m : members) {
            if (m.body() != null) byName.put(normalize(m.entry().getName()), m.body());
        }
        List<Content> layers = ContainerImage.layers(byName, file.toString());
        if (layers == null) {
            for (TarSource.Member m : members) TarSource.apply(tree, m, file.toString());
            return;
        }
        for (int k = 0; k < layers.size(); k++) {
            try (InputStream in = layers.get(k).open()) {
                applyLayer(tree, in, file + ": layer " + (k + 1), budget);
            }
        }
    }

    static String normalize(String name) {
        String n = name;
        while (n.startsWith("./")) n = n.substring(2);
        while (n.startsWith("/")) n = n.substring(1);
        return n;
    }

    /** One image layer: its whiteouts remove what lower layers put there, then its files are added. */
    public static void applyLayer(FsTree tree, InputStream layer, String what, Budget budget) throws IOException {
        List<TarSource.Member> members = TarSource.members(tree, layer, what, budget);
        for (TarSource.Member m : members) {
            String path = normalize(m.entry().getName());
            if (path.endsWith("/")) path = path.substring(0, path.length() - 1);
            int slash = path.lastIndexOf('/');
            String dir = slash < 0 ? "" : path.substring(0, slash), base = path.substring(slash + 1);
            if (base.equals(".wh..wh..opq")) {
                if (tree.get(dir) instanceof Node.Dir d) d.clear();
            } else if (base.startsWith(".wh.")) {
                tree.remove((dir.isEmpty() ? "" : dir + "/") + whitedOut(base, path, what));
            }
        }
        for (TarSource.Member m : members) {
            String path = normalize(m.entry().getName());
            String base = path.endsWith("/") ? "" : path.substring(path.lastIndexOf('/') + 1);
            if (base.startsWith(".wh.")) continue;
            TarSource.apply(tree, m, what);
        }
    }

    /**
     * The name a whiteout ".wh.NAME" removes from its own directory. ".wh.." would name the
     * directory itself (the root at the top) and ".wh..." its parent: a layer removes files in a
     * directory, never the directory from inside or anything above it.
     */
    static String whitedOut(String base, String path, String what) {
        String name = base.substring(4);
        if (name.isEmpty() || name.equals(".") || name.equals("..") || name.indexOf('\0') >= 0)
            throw new ImageToolsException.BadSource(what + ": whiteout " + path + " names no file in its directory");
        return name;
    }

    /** Used when a container image comes as a directory (OCI layout). */
    public static FsTree readImageDir(Path dir, Limits limits) throws IOException {
        Map<String, Content> byName = new LinkedHashMap<>();
        try (var walk = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) walk::iterator) {
                if (Files.isRegularFile(p)) byName.put(dir.relativize(p).toString(), Content.ofFile(p, Files.size(p)));
            }
        }
        List<Content> layers = ContainerImage.layers(byName, dir.toString());
        if (layers == null) throw new ImageToolsException.BadSource(dir + ": not a container image layout");
        FsTree tree = new FsTree(limits);
        Budget budget = new Budget(limits);
        try {
            for (int k = 0; k < layers.size(); k++) {
                try (InputStream in = layers.get(k).open()) {
                    applyLayer(tree, in, dir + ": layer " + (k + 1), budget);
                }
            }
            return tree;
        } catch (RuntimeException | IOException e) {
            tree.close();
            throw e;
        }
    }
}
