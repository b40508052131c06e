package hg.imagetools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Checks an ext4 image with e2fsprogs: e2fsck must accept it silently, and debugfs must give back
 * exactly the expected tree (names, types, modes, owners, link counts, sizes, contents, link
 * targets, device numbers).
 */
public final class ImageCheck {
    private ImageCheck() {}

    public record Run(int exit, String out) {}

    public static Run run(Path cwd, String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).directory(cwd.toFile()).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(300, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("timed out: " + String.join(" ", cmd));
        }
        return new Run(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    private static final Pattern FSCK_QUIET = Pattern.compile(
            "e2fsck \\d.*|Pass [1-5]: .*|.*: \\d+/\\d+ files \\(.*\\), \\d+/\\d+ blocks|\\s*");

    /** e2fsck -fn exits 0 and says nothing beyond its pass headers and the summary. */
    public static void e2fsckClean(Path image) throws Exception {
        Run r = run(image.getParent(), "e2fsck", "-fn", image.toString());
        List<String> extra = new ArrayList<>();
        for (String l : r.out().split("\n")) if (!FSCK_QUIET.matcher(l).matches()) extra.add(l);
        assertTrue(r.exit() == 0 && extra.isEmpty(), "e2fsck -fn complained (exit " + r.exit() + "):\n" + r.out());
    }

    /** What we expect at one path, and what we read back. */
    public record Entry(String type, int perms, int uid, int gid, int links, long size, String digest, String target, int major, int minor) {}

    /** The expected view of a tree, by path ("/a/b"), the root included as "/". */
    public static Map<String, Entry> expected(FsTree tree) throws IOException {
        Map<Node, Integer> refs = new IdentityHashMap<>();
        countRefs(tree.root(), refs);
        Map<String, Entry> out = new TreeMap<>();
        expect("/", tree.root(), refs, out);
        return out;
    }

    private static void countRefs(Node.Dir d, Map<Node, Integer> refs) {
        for (Node c : d.children().values()) {
            refs.merge(c, 1, Integer::sum);
            if (c instanceof Node.Dir cd) countRefs(cd, refs);
        }
    }

    private static void expect(String path, Node n, Map<Node, Integer> refs, Map<String, Entry> out) throws IOException {
        Meta m = n.meta();
        Entry e = switch (n) {
            case Node.Dir d -> {
                int sub = 0;
                for (Node c : d.children().values()) if (c instanceof Node.Dir) sub++;
                if (path.equals("/") && d.child("lost+found") == null) sub++;
                yield new Entry("dir", m.permissions(), m.uid(), m.gid(), 2 + sub, -1, null, null, 0, 0);
            }
            case Node.File f -> new Entry("file", m.permissions(), m.uid(), m.gid(), refs.get(n), f.content().size(), digest(f.content()), null, 0, 0);
            case Node.Symlink s -> new Entry("symlink", m.permissions(), m.uid(), m.gid(), refs.get(n),
                    s.target().getBytes(StandardCharsets.UTF_8).length, null, s.target(), 0, 0);
            case Node.Special sp -> switch (sp.type()) {
                case CHAR_DEVICE -> new Entry("chr", m.permissions(), m.uid(), m.gid(), refs.get(n), 0, null, null, sp.major(), sp.minor());
                case BLOCK_DEVICE -> new Entry("blk", m.permissions(), m.uid(), m.gid(), refs.get(n), 0, null, null, sp.major(), sp.minor());
                case FIFO -> new Entry("fifo", m.permissions(), m.uid(), m.gid(), refs.get(n), 0, null, null, 0, 0);
                case SOCKET -> new Entry("sock", m.permissions(), m.uid(), m.gid(), refs.get(n), 0, null, null, 0, 0);
            };
        };
        out.put(path, e);
        if (n instanceof Node.Dir d) {
            for (Map.Entry<String, Node> c : d.children().entrySet())
                expect((path.equals("/") ? "/" : path + "/") + c.getKey(), c.getValue(), refs, out);
        }
    }

    public static String digest(Content c) throws IOException {
        try (InputStream in = c.open()) {
            return digest(in);
        }
    }

    public static String digest(InputStream in) throws IOException {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] b = new byte[1 << 16];
            int n;
            while ((n = in.read(b)) > 0) md.update(b, 0, n);
            return HexFormat.of().formatHex(md.digest());
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static final Pattern STAT_HEAD = Pattern.compile("Inode: \\d+\\s+Type: (.+?)\\s+Mode:\\s+(\\d+)");
    private static final Pattern STAT_OWNER = Pattern.compile("User:\\s+(\\d+)\\s+Group:\\s+(\\d+).*Size: (\\d+)");
    private static final Pattern STAT_LINKS = Pattern.compile("Links: (\\d+)");
    private static final Pattern STAT_DEV = Pattern.compile("Device major/minor number: (\\d+):(\\d+)");

    /** Modification times (seconds, nanoseconds) by path, as the image should hold them. */
    public static Map<String, long[]> expectedMtimes(FsTree tree) {
        java.util.OptionalLong sde = Ext4ImageWriter.envSourceDateEpoch();
        Map<String, long[]> out = new TreeMap<>();
        java.util.ArrayDeque<Map.Entry<String, Node>> todo = new java.util.ArrayDeque<>();
        todo.add(Map.entry("/", tree.root()));
        while (!todo.isEmpty()) {
            var e = todo.pop();
            Meta m = e.getValue().meta();
            long s = m.mtimeSeconds(), n = m.mtimeNanos();
            if (sde.isPresent() && s > sde.getAsLong()) { s = sde.getAsLong(); n = 0; }
            out.put(e.getKey(), new long[] {s, n});
            if (e.getValue() instanceof Node.Dir d)
                for (var c : d.children().entrySet()) todo.add(Map.entry((e.getKey().equals("/") ? "/" : e.getKey() + "/") + c.getKey(), c.getValue()));
        }
        return out;
    }

    private static final Pattern STAT_MTIME = Pattern.compile("(?m)^\\s*mtime: 0x([0-9a-f]+):([0-9a-f]+)");

    /** Reads the image back with debugfs and compares it with {@code want} (paths beyond it, except /lost+found, are errors). */
    public static void assertImageHolds(Path image, Map<String, Entry> want, Path scratch) throws Exception {
        assertImageHolds(image, want, null, scratch);
    }

    /** As above, and the modification times too when {@code mtimes} is given. */
    public static void assertImageHolds(Path image, Map<String, Entry> want, Map<String, long[]> mtimes, Path scratch) throws Exception {
        // one debugfs run: stat every path, list every directory
        Path cmds = scratch.resolve("debugfs.cmds");
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<String, Entry> e : want.entrySet()) {
            sb.append("stat \"").append(e.getKey()).append("\"\n");
            if (e.getValue().type().equals("dir")) sb.append("ls -p \"").append(e.getKey()).append("\"\n");
        }
        Files.writeString(cmds, sb.toString());
        Run r = run(scratch, "debugfs", "-f", cmds.toString(), image.toString());
        assertEquals(0, r.exit(), r.out());
        String[] parts = r.out().split("(?m)^debugfs: ");
        Map<String, String> statOut = new TreeMap<>();
        Map<String, List<String>> listings = new TreeMap<>();
        for (String part : parts) {
            int nl = part.indexOf('\n');
            if (nl < 0) continue;
            String cmd = part.substring(0, nl), body = part.substring(nl + 1);
            if (cmd.startsWith("stat \"")) statOut.put(cmd.substring(6, cmd.length() - 1), body);
            if (cmd.startsWith("ls -p \"")) {
                List<String> names = new ArrayList<>();
                for (String l : body.split("\n")) {
                    String[] f = l.split("/", -1); // /ino/mode/uid/gid/name/size/
                    if (f.length >= 7 && !f[5].equals(".") && !f[5].equals("..") && !f[1].equals("0")) names.add(f[5]);
                }
                listings.put(cmd.substring(7, cmd.length() - 1), names);
            }
        }
        // every directory holds exactly the expected names
        Map<String, java.util.Set<String>> wantChildren = new java.util.HashMap<>();
        for (String p : want.keySet()) {
            if (p.equals("/")) continue;
            String parent = p.substring(0, p.lastIndexOf('/'));
            wantChildren.computeIfAbsent(parent.isEmpty() ? "/" : parent, k -> new java.util.HashSet<>()).add(p.substring(p.lastIndexOf('/') + 1));
        }
        for (Map.Entry<String, List<String>> l : listings.entrySet()) {
            String dir = l.getKey();
            java.util.Set<String> got = new java.util.HashSet<>(l.getValue());
            if (dir.equals("/")) got.remove("lost+found");
            java.util.Set<String> exp = wantChildren.getOrDefault(dir, java.util.Set.of());
            if (dir.equals("/")) { exp = new java.util.HashSet<>(exp); exp.remove("lost+found"); }
            assertEquals(new java.util.TreeSet<>(exp), new java.util.TreeSet<>(got), "names in " + dir);
        }
        // rdump for contents and symlink targets
        Path dump = scratch.resolve("rdump");
        Files.createDirectories(dump);
        Run rd = run(scratch, "debugfs", "-R", "rdump / " + dump, image.toString());
        assertEquals(0, rd.exit(), rd.out());
        try {
            compare(image, want, statOut, dump);
            if (mtimes != null) {
                for (Map.Entry<String, long[]> e : mtimes.entrySet()) {
                    Matcher t = STAT_MTIME.matcher(statOut.get(e.getKey()));
                    assertTrue(t.find(), "no mtime for " + e.getKey());
                    long lo = (int) Long.parseLong(t.group(1), 16), extra = Long.parseLong(t.group(2), 16);
                    long sec = lo + ((extra & 3) << 32), nanos = extra >>> 2;
                    assertEquals(e.getValue()[0] + "." + e.getValue()[1], sec + "." + nanos, "mtime of " + e.getKey());
                }
            }
        } finally {
            Trees.delete(dump); // ourselves: the dumped symlinks point anywhere
        }
    }

    private static void compare(Path image, Map<String, Entry> want, Map<String, String> statOut, Path dump) throws IOException {
        for (Map.Entry<String, Entry> e : want.entrySet()) {
            String path = e.getKey();
            Entry w = e.getValue();
            String st = statOut.get(path);
            assertTrue(st != null && !st.contains("File not found"), "debugfs cannot stat " + path + ": " + st);
            Matcher h = STAT_HEAD.matcher(st), o = STAT_OWNER.matcher(st), k = STAT_LINKS.matcher(st);
            assertTrue(h.find() && o.find() && k.find(), "unexpected stat output for " + path + ":\n" + st);
            String type = switch (h.group(1)) {
                case "regular" -> "file";
                case "directory" -> "dir";
                case "symlink" -> "symlink";
                case "character special" -> "chr";
                case "block special" -> "blk";
                case "FIFO" -> "fifo";
                case "socket" -> "sock";
                default -> h.group(1);
            };
            String where = path + " in " + image.getFileName();
            assertEquals(w.type(), type, "type of " + where);
            assertEquals(w.perms(), Integer.parseInt(h.group(2), 8), "mode of " + where);
            assertEquals(w.uid(), Integer.parseUnsignedInt(o.group(1)), "owner of " + where);
            assertEquals(w.gid(), Integer.parseUnsignedInt(o.group(2)), "group of " + where);
            assertEquals(w.links(), Integer.parseInt(k.group(1)), "link count of " + where);
            if (w.size() >= 0) assertEquals(w.size(), Long.parseLong(o.group(3)), "size of " + where);
            Path local = path.equals("/") ? dump : dump.resolve(path.substring(1));
            switch (w.type()) {
                case "file" -> {
                    try (InputStream in = Files.newInputStream(local)) {
                        assertEquals(w.digest(), digest(in), "content of " + where);
                    }
                }
                case "symlink" -> assertEquals(w.target(), Files.readSymbolicLink(local).toString(), "target of " + where);
                case "chr", "blk" -> {
                    Matcher d = STAT_DEV.matcher(st);
                    assertTrue(d.find(), "no device numbers for " + where + ":\n" + st);
                    assertEquals(w.major() + ":" + w.minor(), Integer.parseInt(d.group(1)) + ":" + Integer.parseInt(d.group(2)), "device of " + where);
                }
                case "dir" -> assertTrue(Files.isDirectory(local, LinkOption.NOFOLLOW_LINKS), "rdump lacks " + where);
                default -> { }
            }
        }
    }

    /** Writes, checks with e2fsck, and compares with debugfs. */
    public static Ext4Image roundTrip(FsTree tree, Ext4ImageWriter writer, Path scratch) throws Exception {
        Path img = scratch.resolve("image.ext4");
        Ext4Image r = writer.write(tree, img);
        e2fsckClean(img);
        assertImageHolds(img, expected(tree), expectedMtimes(tree), scratch);
        return r;
    }
}
