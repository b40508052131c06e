package hg.imagetools;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Whiteouts remove a name in their own directory and nothing else; opaque ones empty their directory. */
class WhiteoutTest {
    @TempDir Path tmp;

    static Node.File file(String text) {
        return new Node.File(Trees.meta(0644), Content.of(text.getBytes(StandardCharsets.UTF_8)));
    }

    /** A `docker save` tarball of a lower layer (etc/a, etc/b, top) and the given upper layer. */
    static Path image(Path dir, FsTree upper) throws Exception {
        FsTree lower = new FsTree();
        lower.put("etc/a", file("a"));
        lower.put("etc/b", file("b"));
        lower.put("top", file("top"));
        FsTree outer = new FsTree();
        outer.put("manifest.json", file("[{\"Layers\":[\"l1.tar\",\"l2.tar\"]}]"));
        outer.put("l1.tar", new Node.File(Trees.meta(0644), Content.of(SourcesTest.tarBytes(lower))));
        outer.put("l2.tar", new Node.File(Trees.meta(0644), Content.of(SourcesTest.tarBytes(upper))));
        Path img = dir.resolve("image.tar");
        Files.write(img, SourcesTest.tarBytes(outer));
        return img;
    }

    /** ".wh.." names "." and ".wh..." names "..": the whiteout's own directory or its parent, never a file in it. */
    @ParameterizedTest
    @ValueSource(strings = {".wh..", "etc/.wh..", ".wh...", "etc/.wh...", ".wh.", "etc/.wh."})
    void aWhiteoutOfItsOwnDirectoryOrParentIsRefused(String whiteout) throws Exception {
        FsTree upper = new FsTree();
        upper.put("new", file("new"));
        upper.put(whiteout, file(""));
        Path img = image(tmp, upper);
        var e = assertThrows(ImageToolsException.class, () -> Sources.read(img).close());
        assertTrue(e.getMessage().contains("whiteout"), e.getMessage());
        MainTest.refused(MainTest.run("mkfs", "--from", img.toString(), "--out", tmp.resolve("o.img").toString()), "whiteout");
    }

    @Test
    void opaqueAndPlainWhiteoutsStillWork() throws Exception {
        FsTree upper = new FsTree();
        upper.put("etc/.wh..wh..opq", file(""));
        upper.put("etc/c", file("c"));
        upper.put(".wh.top", file(""));
        try (FsTree t = Sources.read(image(tmp, upper))) {
            assertNull(t.get("etc/a"));
            assertNull(t.get("etc/b"));
            assertNotNull(t.get("etc/c"));
            assertNull(t.get("top"));
        }
        FsTree rootOpaque = new FsTree();
        rootOpaque.put(".wh..wh..opq", file(""));
        rootOpaque.put("only", file("only"));
        try (FsTree t = Sources.read(image(tmp, rootOpaque))) {
            assertNull(t.get("etc"));
            assertNull(t.get("top"));
            assertNotNull(t.get("only"));
        }
    }
}
