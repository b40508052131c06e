package hg.imagetools;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Test trees: a hand-made one with every kind of inode, and random ones. */
public final class Trees {
    private Trees() {}

    public static final long T = 1_700_000_000L;

    public static Meta meta(int perms) { return new Meta(perms, 0, 0, T); }

    /** Every file type, odd modes and owners, both symlink kinds, hard links, sizes at block edges. */
    public static FsTree everyKind() {
        FsTree t = new FsTree();
        t.root().meta(new Meta(0755, 0, 0, T));
        t.put("etc", new Node.Dir(meta(0755)));
        t.put("etc/hello.txt", new Node.File(new Meta(0644, 1000, 1000, T, 123_456_789, java.util.Map.of()), Content.of("hello\n".getBytes(StandardCharsets.UTF_8))));
        t.put("empty", new Node.File(meta(0600), Content.of(new byte[0])));
        t.put("bin/suid", new Node.File(meta(04755), Content.of(bytes(4096, 1))));
        t.put("bin/sgid", new Node.File(new Meta(02711, 70000, 80000, T), Content.of(bytes(4097, 2))));
        t.put("tmp", new Node.Dir(meta(01777)));
        t.put("fast", new Node.Symlink(meta(0777), "x".repeat(59)));
        t.put("slow", new Node.Symlink(meta(0777), "y".repeat(60)));
        t.put("longest", new Node.Symlink(meta(0777), "/z".repeat(2000)));
        t.put("dev/null", new Node.Special(meta(0666), Node.Special.Type.CHAR_DEVICE, 1, 3));
        t.put("dev/big", new Node.Special(meta(0660), Node.Special.Type.BLOCK_DEVICE, 300, 70000));
        t.put("run/fifo", new Node.Special(meta(0644), Node.Special.Type.FIFO, 0, 0));
        t.put("run/sock", new Node.Special(meta(0755), Node.Special.Type.SOCKET, 0, 0));
        Node.File shared = new Node.File(meta(0644), Content.of(bytes(10_000, 3)));
        t.put("a/one", shared);
        t.put("b/two", shared);
        t.put("b/three", shared);
        Node.Symlink sharedLink = new Node.Symlink(meta(0777), "etc");
        t.put("l1", sharedLink);
        t.put("l2", sharedLink);
        t.put("n".repeat(255), new Node.File(meta(0644), Content.of(bytes(1, 4))));
        t.put("old", new Node.File(new Meta(0644, 0, 0, -100_000), Content.of(bytes(8192, 5))));
        t.put("future", new Node.File(new Meta(0644, 0, 0, 5_000_000_000L), Content.of(bytes(8191, 6))));
        t.put("x/attr", new Node.File(meta(0644).withXattrs(java.util.Map.of("user.comment", "hi".getBytes(StandardCharsets.UTF_8),
                "security.selinux", "system_u:object_r:bin_t:s0\0".getBytes(StandardCharsets.UTF_8))), Content.of(bytes(10, 7))));
        Node.Dir wide = new Node.Dir(meta(0755));
        t.put("wide", wide);
        for (int i = 0; i < 700; i++) wide.put("entry-with-a-longish-name-" + i, new Node.File(meta(0644), Content.of(new byte[0])));
        return t;
    }

    public static byte[] bytes(int n, int seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static final String ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-+,=@ ";
    private static final int[] SIZES = {0, 1, 59, 60, 4095, 4096, 4097, 8191, 8192, 8193, 12288, 49152, 65536, 65537, 200_000};

    public static String name(Random r) {
        int len = switch (r.nextInt(10)) {
            case 0 -> 255;
            case 1 -> 200 + r.nextInt(56);
            default -> 1 + r.nextInt(20);
        };
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < len; i++) b.append(ALPHABET.charAt(r.nextInt(ALPHABET.length())));
        String s = b.toString();
        return s.equals(".") || s.equals("..") || s.equals("lost+found") ? s + "x" : s;
    }

    /** A random tree of about {@code inodes} entries, shaped by {@code seed}. */
    public static FsTree random(long seed, int inodes) {
        Random r = new Random(seed);
        FsTree t = new FsTree();
        t.root().meta(new Meta(0755, 0, 0, T));
        List<Node.Dir> dirs = new ArrayList<>(List.of(t.root()));
        List<Node> linkable = new ArrayList<>();
        for (int i = 0; i < inodes; i++) {
            // sometimes deep (the newest dir), sometimes wide (one dir keeps growing)
            Node.Dir parent = switch (r.nextInt(4)) {
                case 0 -> dirs.getLast();
                case 1 -> dirs.get(0);
                default -> dirs.get(r.nextInt(dirs.size()));
            };
            String name = name(r);
            if (parent.child(name) != null) continue;
            Meta m = new Meta(r.nextInt(07777 + 1), r.nextInt(3) == 0 ? r.nextInt(100_000) : 0, r.nextInt(3) == 0 ? r.nextInt(100_000) : 0,
                    T + r.nextInt(1_000_000), r.nextInt(1_000_000_000), java.util.Map.of());
            int kind = r.nextInt(20);
            Node n;
            if (kind < 5) {
                Node.Dir d = new Node.Dir(m.withPermissions(m.permissions() | 0700));
                dirs.add(d);
                n = d;
            } else if (kind < 14) {
                int size = r.nextInt(3) == 0 ? r.nextInt(20_000) : SIZES[r.nextInt(SIZES.length)];
                n = new Node.File(m, Content.of(bytes(size, r.nextInt())));
                linkable.add(n);
            } else if (kind < 16) {
                n = new Node.Symlink(m.withPermissions(0777), "t".repeat(1 + r.nextInt(r.nextBoolean() ? 70 : 300)));
            } else if (kind < 17) {
                n = new Node.Special(m, r.nextBoolean() ? Node.Special.Type.CHAR_DEVICE : Node.Special.Type.BLOCK_DEVICE, r.nextInt(4096), r.nextInt(1 << 20));
            } else if (kind < 18) {
                n = new Node.Special(m, r.nextBoolean() ? Node.Special.Type.FIFO : Node.Special.Type.SOCKET, 0, 0);
            } else if (!linkable.isEmpty()) {
                n = linkable.get(r.nextInt(linkable.size())); // another hard link
            } else {
                continue;
            }
            parent.put(name, n);
        }
        return t;
    }

    /** {@code size} bytes of zeros (cheap to make), except a 7 at each of {@code marks}. */
    public static Content zeros(long size, long... marks) {
        return new Content() {
            @Override public long size() { return size; }
            @Override public java.io.InputStream open() {
                return new java.io.InputStream() {
                    long pos;
                    @Override public int read() { byte[] b = new byte[1]; return read(b, 0, 1) < 0 ? -1 : b[0] & 0xff; }
                    @Override public int read(byte[] b, int off, int len) {
                        if (pos >= size) return -1;
                        int n = (int) Math.min(len, size - pos);
                        java.util.Arrays.fill(b, off, off + n, (byte) 0);
                        for (long mark : marks) if (mark >= pos && mark < pos + n) b[off + (int) (mark - pos)] = 7;
                        pos += n;
                        return n;
                    }
                };
            }
        };
    }

    public static Path tempDir() throws IOException { return Files.createTempDirectory("hg-imagetools-test-"); }

    public static void delete(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        Files.walkFileTree(dir, new SimpleFileVisitor<>() {
            @Override public FileVisitResult visitFile(Path f, BasicFileAttributes a) throws IOException { Files.delete(f); return FileVisitResult.CONTINUE; }
            @Override public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException { Files.delete(d); return FileVisitResult.CONTINUE; }
        });
    }
}
