package hg.imagetools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.ar.ArArchiveEntry;
import org.apache.commons.compress.archivers.ar.ArArchiveOutputStream;
import org.apache.commons.compress.compressors.bzip2.BZip2CompressorOutputStream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.tukaani.xz.LZMA2Options;
import org.tukaani.xz.XZOutputStream;

class SourcesTest {
    @TempDir Path tmp;

    /** The hand-made tree without its socket (tar and most archives cannot hold one). */
    static FsTree archivable() {
        FsTree t = Trees.everyKind();
        t.remove("run/sock");
        return t;
    }

    static byte[] tarBytes(FsTree t) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        ArchiveOut.tar(t, b);
        return b.toByteArray();
    }

    static byte[] compress(byte[] data, String kind) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (OutputStream o = switch (kind) {
            case "gz" -> new GZIPOutputStream(b);
            case "xz" -> new XZOutputStream(b, new LZMA2Options());
            case "bz2" -> new BZip2CompressorOutputStream(b);
            default -> b;
        }) {
            o.write(data);
        }
        return b.toByteArray();
    }

    /** Source file -> tree -> image, compared with the tree the archive was made from. */
    void imageMatches(Path source, FsTree original) throws Exception {
        try (FsTree read = Sources.read(source)) {
            Path img = tmp.resolve("image.ext4");
            new Ext4ImageWriter().write(read, img);
            ImageCheck.e2fsckClean(img);
            ImageCheck.assertImageHolds(img, ImageCheck.expected(original), tmp);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"plain", "gz", "xz", "bz2"})
    void tarsInEveryCompression(String kind) throws Exception {
        try (FsTree t = archivable()) {
            Path src = tmp.resolve("src.tar." + kind);
            Files.write(src, compress(tarBytes(t), kind));
            imageMatches(src, t);
        }
    }

    /** Drops the sockets of a tree (tar cannot hold them). */
    static void dropSockets(Node.Dir d) {
        for (var e : new java.util.ArrayList<>(d.children().entrySet())) {
            if (e.getValue() instanceof Node.Special sp && sp.type() == Node.Special.Type.SOCKET) d.remove(e.getKey());
            else if (e.getValue() instanceof Node.Dir sub) dropSockets(sub);
        }
    }

    @net.jqwik.api.Property(tries = 50)
    void randomTreesThroughTar(@net.jqwik.api.ForAll long seed, @net.jqwik.api.ForAll @net.jqwik.api.constraints.IntRange(min = 1, max = 300) int inodes) throws Exception {
        try (FsTree t = Trees.random(seed, inodes)) {
            dropSockets(t.root());
            try (FsTree back = Sources.readTar(new java.io.ByteArrayInputStream(compress(tarBytes(t), seed % 2 == 0 ? "gz" : "plain")), "t.tar")) {
                assertEquals(ImageCheck.expected(t), ImageCheck.expected(back));
            }
        }
    }

    @Test
    void zstdTarThroughTheZstdProgram() throws Exception {
        Assumptions.assumeTrue(ImageCheck.run(tmp, "sh", "-c", "command -v zstd").exit() == 0, "no zstd program here");
        try (FsTree t = archivable()) {
            Path tar = tmp.resolve("src.tar");
            Files.write(tar, tarBytes(t));
            assertEquals(0, ImageCheck.run(tmp, "zstd", "-q", "src.tar", "-o", "src.tar.zst").exit());
            imageMatches(tmp.resolve("src.tar.zst"), t);
        }
    }

    @Test
    void tarXattrsLandInTheImage() throws Exception {
        try (FsTree t = archivable()) {
            Path src = tmp.resolve("x.tar");
            Files.write(src, tarBytes(t));
            try (FsTree read = Sources.read(src)) {
                Path img = tmp.resolve("image.ext4");
                new Ext4ImageWriter().write(read, img);
                ImageCheck.e2fsckClean(img);
                ImageCheck.Run r = ImageCheck.run(tmp, "debugfs", "-R", "ea_list /x/attr", img.toString());
                assertTrue(r.out().contains("user.comment (2) = \"hi\""), r.out());
                assertTrue(r.out().contains("security.selinux"), r.out());
            }
        }
    }

    /** A real directory, archived by GNU tar and by GNU cpio, gives the same image as the directory itself. */
    @Test
    void gnuTarAndCpioOfARealDirectory() throws Exception {
        Path dir = tmp.resolve("tree");
        Files.createDirectories(dir.resolve("a/b"));
        Files.writeString(dir.resolve("a/hello"), "hello\n");
        Files.write(dir.resolve("a/b/blob"), Trees.bytes(70_000, 1));
        Files.createSymbolicLink(dir.resolve("a/link"), Path.of("hello"));
        Files.createLink(dir.resolve("a/b/hard"), dir.resolve("a/hello"));
        Files.createFile(dir.resolve("empty"));
        assertEquals(0, ImageCheck.run(tmp, "mkfifo", dir.resolve("fifo").toString()).exit());
        try (FsTree fromDir = Sources.read(dir)) {
            imageMatches(dir, fromDir);
            assertEquals(0, ImageCheck.run(dir, "tar", "--numeric-owner", "-cf", "../gnu.tar", ".").exit());
            imageMatches(tmp.resolve("gnu.tar"), fromDir);
            assertEquals(0, ImageCheck.run(dir, "sh", "-c", "find . -mindepth 1 | sort | cpio --quiet -o -H newc | gzip > ../gnu.cpio.gz").exit());
            imageMatches(tmp.resolve("gnu.cpio.gz"), fromDir);
        }
    }

    @Test
    void debianPackageDataTar() throws Exception {
        try (FsTree t = archivable()) {
            Path deb = tmp.resolve("pkg.deb");
            try (ArArchiveOutputStream ar = new ArArchiveOutputStream(Files.newOutputStream(deb))) {
                member(ar, "debian-binary", "2.0\n".getBytes(StandardCharsets.US_ASCII));
                member(ar, "control.tar.gz", compress(tarBytes(new FsTree()), "gz"));
                member(ar, "data.tar.xz", compress(tarBytes(t), "xz"));
            }
            imageMatches(deb, t);
        }
    }

    private static void member(ArArchiveOutputStream ar, String name, byte[] data) throws IOException {
        ar.putArchiveEntry(new ArArchiveEntry(name, data.length));
        ar.write(data);
        ar.closeArchiveEntry();
    }

    private static Meta m() { return Trees.meta(0644); }

    /** Lower layer, upper layer with a whiteout and an opaque directory, and the tree that must result. */
    static List<FsTree> layers() {
        FsTree l1 = new FsTree();
        l1.put("a/f1", new Node.File(m(), Content.of("one".getBytes(StandardCharsets.UTF_8))));
        l1.put("a/f2", new Node.File(m(), Content.of("two".getBytes(StandardCharsets.UTF_8))));
        l1.put("b/x", new Node.File(m(), Content.of("x".getBytes(StandardCharsets.UTF_8))));
        l1.put("b/sub/deep", new Node.File(m(), Content.of("deep".getBytes(StandardCharsets.UTF_8))));
        FsTree l2 = new FsTree();
        l2.put("a", new Node.Dir(Trees.meta(0755)));
        l2.put("a/.wh.f1", new Node.File(m(), Content.of(new byte[0])));
        l2.put("b/.wh..wh..opq", new Node.File(m(), Content.of(new byte[0])));
        l2.put("b/y", new Node.File(m(), Content.of("y".getBytes(StandardCharsets.UTF_8))));
        l2.put("c/new", new Node.File(new Meta(0600, 5, 6, Trees.T), Content.of("new".getBytes(StandardCharsets.UTF_8))));
        FsTree want = new FsTree();
        want.put("a/f2", new Node.File(m(), Content.of("two".getBytes(StandardCharsets.UTF_8))));
        want.put("b/y", new Node.File(m(), Content.of("y".getBytes(StandardCharsets.UTF_8))));
        want.put("c/new", new Node.File(new Meta(0600, 5, 6, Trees.T), Content.of("new".getBytes(StandardCharsets.UTF_8))));
        for (FsTree t : List.of(l1, l2, want)) {
            t.root().meta(Trees.meta(0755));
            for (String d : List.of("a", "b", "b/sub", "c")) if (t.get(d) instanceof Node.Dir dd) dd.meta(Trees.meta(0755));
        }
        return List.of(l1, l2, want);
    }

    @Test
    void dockerSaveTarballAppliesLayersAndWhiteouts() throws Exception {
        List<FsTree> ls = layers();
        Path img = tmp.resolve("image.tar");
        FsTree outer = new FsTree();
        outer.put("manifest.json", new Node.File(m(), Content.of(
                "[{\"Config\":\"cfg.json\",\"RepoTags\":[\"x:1\"],\"Layers\":[\"l1/layer.tar\",\"l2/layer.tar\"]}]".getBytes(StandardCharsets.UTF_8))));
        outer.put("cfg.json", new Node.File(m(), Content.of("{}".getBytes(StandardCharsets.UTF_8))));
        outer.put("l1/layer.tar", new Node.File(m(), Content.of(tarBytes(ls.get(0)))));
        outer.put("l2/layer.tar", new Node.File(m(), Content.of(tarBytes(ls.get(1)))));
        Files.write(img, tarBytes(outer));
        imageMatches(img, ls.get(2));
    }

    @Test
    void ociLayoutAsTarAndAsDirectory() throws Exception {
        List<FsTree> ls = layers();
        FsTree outer = new FsTree();
        byte[] l1 = compress(tarBytes(ls.get(0)), "gz"), l2 = compress(tarBytes(ls.get(1)), "gz");
        String manifest = "{\"schemaVersion\":2,\"config\":{\"digest\":\"" + blob(outer, "{}".getBytes(StandardCharsets.UTF_8))
                + "\"},\"layers\":[{\"digest\":\"" + blob(outer, l1) + "\"},{\"digest\":\"" + blob(outer, l2) + "\"}]}";
        String index = "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\""
                + blob(outer, manifest.getBytes(StandardCharsets.UTF_8)) + "\"}]}";
        outer.put("oci-layout", new Node.File(m(), Content.of("{\"imageLayoutVersion\":\"1.0.0\"}".getBytes(StandardCharsets.UTF_8))));
        outer.put("index.json", new Node.File(m(), Content.of(index.getBytes(StandardCharsets.UTF_8))));
        Path tar = tmp.resolve("oci.tar");
        Files.write(tar, tarBytes(outer));
        imageMatches(tar, ls.get(2));
        Path dir = tmp.resolve("oci");
        Files.createDirectories(dir);
        assertEquals(0, ImageCheck.run(dir, "tar", "-xf", tar.toString()).exit());
        imageMatches(dir, ls.get(2));
    }

    private static String blob(FsTree outer, byte[] data) throws Exception {
        String hex = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        outer.put("blobs/sha256/" + hex, new Node.File(m(), Content.of(data)));
        return "sha256:" + hex;
    }

    @Test
    void brokenAndUnknownInputsAreRefusedClearly() throws Exception {
        Path missing = tmp.resolve("nope");
        assertTrue(assertThrows(ImageToolsException.BadSource.class, () -> Sources.read(missing)).getMessage().contains("no such file"));
        Path junk = tmp.resolve("junk.bin");
        Files.write(junk, Trees.bytes(5000, 3));
        assertThrows(ImageToolsException.BadSource.class, () -> Sources.read(junk));
        byte[] gz;
        try (FsTree t = archivable()) { gz = compress(tarBytes(t), "gz"); }
        Path cut = tmp.resolve("cut.tar.gz");
        Files.write(cut, java.util.Arrays.copyOf(gz, gz.length / 2));
        var e = assertThrows(ImageToolsException.BadSource.class, () -> Sources.read(cut).close());
        assertTrue(e.getMessage().contains("cut.tar.gz"), e.getMessage());
        Path longName = tmp.resolve("long.tar");
        try (FsTree t = new FsTree()) {
            // a tree cannot even hold such a name, so write the tar entry by hand
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            try (var tar = new org.apache.commons.compress.archivers.tar.TarArchiveOutputStream(b)) {
                tar.setLongFileMode(org.apache.commons.compress.archivers.tar.TarArchiveOutputStream.LONGFILE_POSIX);
                var en = new org.apache.commons.compress.archivers.tar.TarArchiveEntry("d/" + "n".repeat(256));
                en.setSize(0);
                tar.putArchiveEntry(en);
                tar.closeArchiveEntry();
            }
            Files.write(longName, b.toByteArray());
            assertNull(t.get("d"));
        }
        assertThrows(ImageToolsException.BadName.class, () -> Sources.read(longName));
    }
}
