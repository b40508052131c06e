package hg.imagetools.internal;

import hg.imagetools.FsTree;
import hg.imagetools.ImageToolsException;
import hg.imagetools.Limits;
import hg.imagetools.Meta;
import hg.imagetools.Node;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/** Reads tar archives (any compression) into a tree; also applies container image layers with whiteouts. */
public final class TarSource {
    private TarSource() {}

    /** One tar member, with its body kept in the tree's store. */
    record Member(TarArchiveEntry entry, hg.imagetools.Content body) {}

    public static void readInto(FsTree tree, InputStream raw, String what, Budget budget) throws IOException {
        for (Member m : members(tree, raw, what, budget)) apply(tree, m, what);
    }

    static List<Member> members(FsTree tree, InputStream raw, String what, Budget budget) throws IOException {
        List<Member> out = new ArrayList<>();
        try (MeteredInput in = Decompress.open(raw, what, budget);
             TarArchiveInputStream tar = new TarArchiveInputStream(in, StandardCharsets.UTF_8.name())) {
            TarArchiveEntry e;
            while ((e = nextEntry(tar, in, what)) != null) {
                hg.imagetools.Content body = null;
                if (e.isFile() && !e.isLink()) body = tree.store(tar, e.getSize());
                out.add(new Member(e, body));
            }
        } catch (ImageToolsException x) {
            throw x;
        } catch (IOException | RuntimeException x) {
            throw new ImageToolsException.BadSource(what + ": broken tar archive (" + Decompress.reason(x) + ")", x);
        }
        if (out.isEmpty()) throw new ImageToolsException.BadSource(what + ": not a tar archive, or an empty one");
        return out;
    }

    private static TarArchiveEntry nextEntry(TarArchiveInputStream tar, MeteredInput in, String what) throws IOException {
        try {
            return in.next(tar);
        } catch (IOException | IllegalArgumentException e) {
            throw new ImageToolsException.BadSource(what + ": broken tar archive (" + Decompress.reason(e) + ")", e);
        }
    }

    static Meta meta(TarArchiveEntry e) {
        java.nio.file.attribute.FileTime t = e.getLastModifiedTime();
        java.time.Instant i = t == null ? java.time.Instant.EPOCH : t.toInstant();
        Map<String, byte[]> x = new TreeMap<>();
        for (Map.Entry<String, String> h : e.getExtraPaxHeaders().entrySet()) {
            String k = h.getKey();
            String name = k.startsWith("SCHILY.xattr.") ? k.substring(13) : k.startsWith("LIBARCHIVE.xattr.") ? k.substring(17) : null;
            if (name == null) continue;
            // PAX stores xattr values as the header's bytes; commons-compress hands them over as ISO-8859-1
            byte[] v = k.startsWith("LIBARCHIVE.") ? java.util.Base64.getDecoder().decode(h.getValue()) : h.getValue().getBytes(StandardCharsets.ISO_8859_1);
            x.put(name, v);
        }
        return new Meta(e.getMode() & 07777, (int) e.getLongUserId(), (int) e.getLongGroupId(), i.getEpochSecond(), i.getNano(), x);
    }

    static void apply(FsTree tree, Member m, String what) {
        TarArchiveEntry e = m.entry();
        String path = e.getName();
        Meta meta = meta(e);
        Node n;
        if (e.isLink()) {
            Node target = tree.get(e.getLinkName());
            if (target == null) throw new ImageToolsException.BadSource(what + ": hard link " + path + " to missing " + e.getLinkName());
            if (target instanceof Node.Dir) throw new ImageToolsException.BadSource(what + ": hard link to a directory: " + path);
            n = target;
        } else if (e.isDirectory()) {
            n = new Node.Dir(meta);
        } else if (e.isSymbolicLink()) {
            if (!Node.Symlink.fits(e.getLinkName()))
                throw new ImageToolsException.OverLimit(what + ": symlink target of " + path + " is longer than " + Limits.MAX_SYMLINK_TARGET_BYTES + " bytes");
            n = new Node.Symlink(meta, e.getLinkName());
        } else if (e.isCharacterDevice() || e.isBlockDevice()) {
            n = new Node.Special(meta, e.isCharacterDevice() ? Node.Special.Type.CHAR_DEVICE : Node.Special.Type.BLOCK_DEVICE,
                    e.getDevMajor(), e.getDevMinor());
        } else if (e.isFIFO()) {
            n = new Node.Special(meta, Node.Special.Type.FIFO, 0, 0);
        } else if (e.isFile()) {
            n = new Node.File(meta, m.body());
        } else {
            return; // global PAX headers and the like carry no file
        }
        tree.put(path, n);
    }
}
