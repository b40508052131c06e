package hg.imagetools.internal;

import hg.imagetools.Content;
import hg.imagetools.FsTree;
import hg.imagetools.ImageToolsException;
import hg.imagetools.Limits;
import hg.imagetools.Meta;
import hg.imagetools.Node;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Reads a directory tree as it is on disk: owners, modes, times, device numbers, hard links (by inode). */
public final class DirectorySource {
    private static final String ATTRS = "unix:mode,uid,gid,ino,dev,rdev,nlink,size,lastModifiedTime";
    private final Map<List<Long>, Node> seen = new HashMap<>();
    private final Path top;
    private final long maxEntries;
    private long entries;

    private DirectorySource(Path top, Limits limits) {
        this.top = top;
        this.maxEntries = limits.maxEntries();
    }

    public static FsTree read(Path dir, Limits limits) throws IOException {
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS))
            throw new ImageToolsException.BadSource("not a directory: " + dir);
        FsTree tree = new FsTree(limits);
        DirectorySource s = new DirectorySource(dir, limits);
        tree.root().meta(s.meta(dir, s.attrs(dir)));
        s.fill(tree.root(), dir);
        return tree;
    }

    /**
     * Counts one more name against the entry cap, and bounds the path: nesting is what the
     * recursive walk would otherwise follow until the stack overflows.
     */
    private void enter(Path c) {
        if (++entries > maxEntries)
            throw new ImageToolsException.OverLimit(top + ": more than " + maxEntries + " entries (the cap on entries, --max-entries)");
        String rel = top.relativize(c).toString();
        if (rel.length() > Limits.MAX_PATH_BYTES / 3 && rel.getBytes(StandardCharsets.UTF_8).length > Limits.MAX_PATH_BYTES)
            throw new ImageToolsException.BadName(top + ": path longer than " + Limits.MAX_PATH_BYTES + " bytes: " + rel.substring(0, 40) + "...");
    }

    private Map<String, Object> attrs(Path p) {
        try {
            return Files.readAttributes(p, ATTRS, LinkOption.NOFOLLOW_LINKS);
        } catch (IOException | SecurityException e) {
            throw new ImageToolsException.BadSource("cannot read " + p + ": " + Decompress.reason(e), e);
        }
    }

    private Meta meta(Path p, Map<String, Object> a) {
        Instant t = ((FileTime) a.get("lastModifiedTime")).toInstant();
        return new Meta((int) a.get("mode") & 07777, (int) a.get("uid"), (int) a.get("gid"), t.getEpochSecond(), t.getNano(), Map.of());
    }

    private void fill(Node.Dir into, Path dir) throws IOException {
        List<Path> children = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path c : ds) children.add(c);
        } catch (IOException | SecurityException e) {
            throw new ImageToolsException.BadSource("cannot list " + dir + ": " + Decompress.reason(e), e);
        }
        for (Path c : children) {
            enter(c);
            String name = c.getFileName().toString();
            Map<String, Object> a = attrs(c);
            int mode = (int) a.get("mode");
            int nlink = (int) a.get("nlink");
            List<Long> key = List.of((long) a.get("dev"), (long) a.get("ino"));
            int type = mode & 0xF000;
            if (type != 0x4000 && nlink > 1) {
                Node prev = seen.get(key);
                if (prev != null) { into.put(name, prev); continue; }
            }
            Meta m = meta(c, a);
            Node n = switch (type) {
                case 0x4000 -> {
                    Node.Dir d = new Node.Dir(m);
                    into.put(name, d);
                    fill(d, c);
                    yield d;
                }
                case 0x8000 -> {
                    if (!Files.isReadable(c)) throw new ImageToolsException.BadSource("cannot read " + c + ": permission denied");
                    yield new Node.File(m, Content.ofFile(c, (long) a.get("size")));
                }
                case 0xA000 -> new Node.Symlink(m, Files.readSymbolicLink(c).toString());
                case 0x2000, 0x6000 -> {
                    long rdev = (long) a.get("rdev");
                    int major = (int) (((rdev >>> 8) & 0xfff) | ((rdev >>> 32) & ~0xfffL));
                    int minor = (int) ((rdev & 0xff) | ((rdev >>> 12) & ~0xffL));
                    yield new Node.Special(m, type == 0x2000 ? Node.Special.Type.CHAR_DEVICE : Node.Special.Type.BLOCK_DEVICE, major, minor);
                }
                case 0x1000 -> new Node.Special(m, Node.Special.Type.FIFO, 0, 0);
                case 0xC000 -> new Node.Special(m, Node.Special.Type.SOCKET, 0, 0);
                default -> throw new ImageToolsException.BadSource("unknown file type " + Integer.toOctalString(mode) + ": " + c);
            };
            if (!(n instanceof Node.Dir)) into.put(name, n);
            if (type != 0x4000 && nlink > 1) seen.put(key, n);
        }
    }
}
