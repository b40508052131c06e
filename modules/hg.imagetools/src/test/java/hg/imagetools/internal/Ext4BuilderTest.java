package hg.imagetools.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hg.imagetools.Content;
import hg.imagetools.FsTree;
import hg.imagetools.ImageCheck;
import hg.imagetools.Node;
import hg.imagetools.Progress;
import hg.imagetools.Trees;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Small block groups make fragmented files cheaply: extent trees of depth 1 and 2, many backup groups. */
class Ext4BuilderTest {
    @TempDir Path tmp;

    private static Ext4Builder builder(FsTree t, boolean journal) {
        return new Ext4Builder(t, OptionalLong.empty(), "", Optional.empty(), journal, OptionalLong.empty(), Progress.NONE).blocksPerGroup(64);
    }

    private int depth(Path img, String path) throws Exception {
        ImageCheck.Run r = ImageCheck.run(tmp, "debugfs", "-R", "stat " + path, img.toString());
        int d = -1;
        for (String l : r.out().split("\n")) {
            // "EXTENTS:" lines list the tree; "ex" gives "Level Entries" rows, stat shows (ETB0) for index blocks
            if (l.contains("(ETB")) d = Math.max(d, 1);
            if (l.contains("(ETB1)")) d = Math.max(d, 2);
        }
        return Math.max(d, 0);
    }

    @Test
    void fragmentedFilesGetAnIndexedExtentTree() throws Exception {
        try (FsTree t = new FsTree()) {
            t.put("f1", new Node.File(Trees.meta(0644), Content.of(Trees.bytes(2 << 20, 1)))); // ~9 groups of data
            t.put("d/small", new Node.File(Trees.meta(0644), Content.of(Trees.bytes(100, 2))));
            Node.Dir big = new Node.Dir(Trees.meta(0755));
            t.put("bigdir", big);
            for (int i = 0; i < 6000; i++) big.put("n".repeat(200) + i, new Node.Special(Trees.meta(0644), Node.Special.Type.FIFO, 0, 0));
            Path img = tmp.resolve("image.ext4");
            builder(t, true).write(img);
            ImageCheck.e2fsckClean(img);
            ImageCheck.assertImageHolds(img, ImageCheck.expected(t), tmp);
            assertEquals(1, depth(img, "/f1"));
            assertEquals(1, depth(img, "/bigdir"));
        }
    }

    @Test
    void veryFragmentedFileGetsADepthTwoTree() throws Exception {
        // over 4 * 340 extents: needs index blocks pointing at index blocks
        long size = 1500L * 60 * 4096;
        try (FsTree t = new FsTree()) {
            t.put("huge", new Node.File(Trees.meta(0644), Trees.zeros(size, 0, size - 1)));
            Path img = tmp.resolve("image.ext4");
            builder(t, false).write(img);
            ImageCheck.e2fsckClean(img);
            assertEquals(2, depth(img, "/huge"));
            ImageCheck.Run r = ImageCheck.run(tmp, "debugfs", "-R", "stat /huge", img.toString());
            assertTrue(r.out().contains("Size: " + size), r.out());
        }
    }
}
