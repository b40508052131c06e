package hg.imagetools;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.IdentityHashMap;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/** Test helper: writes a tree as a tar (PAX, with xattrs and hard links) the way GNU tar would. */
final class ArchiveOut {
    private ArchiveOut() {}

    static void tar(FsTree tree, OutputStream out) throws IOException {
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(out, StandardCharsets.UTF_8.name())) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
            TarArchiveEntry root = new TarArchiveEntry("./");
            fill(root, tree.root().meta());
            tar.putArchiveEntry(root);
            tar.closeArchiveEntry();
            walk(tar, "./", tree.root(), new IdentityHashMap<>());
        }
    }

    private static void fill(TarArchiveEntry e, Meta m) {
        e.setMode((e.getMode() & ~07777) | m.permissions());
        e.setUserId(m.uid());
        e.setGroupId(m.gid());
        e.setUserName("");
        e.setGroupName("");
        e.setLastModifiedTime(FileTime.from(Instant.ofEpochSecond(m.mtimeSeconds(), m.mtimeNanos())));
        for (Map.Entry<String, byte[]> x : m.xattrs().entrySet())
            e.addPaxHeader("SCHILY.xattr." + x.getKey(), new String(x.getValue(), StandardCharsets.ISO_8859_1));
    }

    private static void walk(TarArchiveOutputStream tar, String prefix, Node.Dir dir, Map<Node, String> seen) throws IOException {
        for (Map.Entry<String, Node> c : dir.children().entrySet()) {
            String path = prefix + c.getKey();
            Node n = c.getValue();
            String first = seen.get(n);
            TarArchiveEntry e;
            if (first != null) {
                e = new TarArchiveEntry(path, TarConstants.LF_LINK);
                e.setLinkName(first);
                fill(e, n.meta());
                tar.putArchiveEntry(e);
                tar.closeArchiveEntry();
                continue;
            }
            if (!(n instanceof Node.Dir)) seen.put(n, path);
            switch (n) {
                case Node.Dir d -> {
                    e = new TarArchiveEntry(path + "/");
                    fill(e, n.meta());
                    tar.putArchiveEntry(e);
                    tar.closeArchiveEntry();
                    walk(tar, path + "/", d, seen);
                }
                case Node.File f -> {
                    e = new TarArchiveEntry(path);
                    fill(e, n.meta());
                    e.setSize(f.content().size());
                    tar.putArchiveEntry(e);
                    try (InputStream in = f.content().open()) { in.transferTo(tar); }
                    tar.closeArchiveEntry();
                }
                case Node.Symlink s -> {
                    e = new TarArchiveEntry(path, TarConstants.LF_SYMLINK);
                    e.setLinkName(s.target());
                    fill(e, n.meta());
                    tar.putArchiveEntry(e);
                    tar.closeArchiveEntry();
                }
                case Node.Special sp -> {
                    byte flag = switch (sp.type()) {
                        case CHAR_DEVICE -> TarConstants.LF_CHR;
                        case BLOCK_DEVICE -> TarConstants.LF_BLK;
                        case FIFO -> TarConstants.LF_FIFO;
                        case SOCKET -> throw new IllegalArgumentException("tar cannot hold sockets");
                    };
                    e = new TarArchiveEntry(path, flag);
                    e.setDevMajor(sp.major());
                    e.setDevMinor(sp.minor());
                    fill(e, n.meta());
                    tar.putArchiveEntry(e);
                    tar.closeArchiveEntry();
                }
            }
        }
    }
}
