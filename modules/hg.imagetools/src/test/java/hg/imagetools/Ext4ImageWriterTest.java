package hg.imagetools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class Ext4ImageWriterTest {
    @TempDir Path tmp;

    @Test
    void everyKindOfInodeRoundTrips() throws Exception {
        try (FsTree t = Trees.everyKind()) {
            ImageCheck.roundTrip(t, new Ext4ImageWriter(), tmp);
        }
    }

    @Test
    void withJournalLabelAndUuid() throws Exception {
        UUID u = UUID.fromString("01234567-89ab-cdef-0123-456789abcdef");
        try (FsTree t = Trees.everyKind()) {
            ImageCheck.roundTrip(t, new Ext4ImageWriter().journal(true).label("root").uuid(u).size(64 << 20), tmp);
        }
        Path img = tmp.resolve("image.ext4");
        ImageCheck.Run r = ImageCheck.run(tmp, "dumpe2fs", "-h", img.toString());
        assertTrue(r.out().contains("Filesystem volume name:   root"), r.out());
        assertTrue(r.out().contains("Filesystem UUID:          " + u), r.out());
        assertTrue(r.out().matches("(?s).*Filesystem features:.*has_journal.*extent.*metadata_csum.*"), r.out());
        assertTrue(r.out().contains("Total journal blocks:     1024"), r.out());
        assertEquals(64 << 20, Files.size(img));
    }

    @Test
    void imageIsSparse() throws Exception {
        try (FsTree t = Trees.everyKind()) {
            Path img = tmp.resolve("sparse.ext4");
            new Ext4ImageWriter().size(1L << 30).write(t, img);
            long allocated = Long.parseLong(ImageCheck.run(tmp, "stat", "-c", "%b", img.toString()).out().trim()) * 512;
            assertEquals(1L << 30, Files.size(img));
            assertTrue(allocated < 16 << 20, "a 1 GiB image of a small tree occupies " + allocated + " bytes");
            ImageCheck.e2fsckClean(img);
        }
    }

    @Test
    void sameTreeGivesSameBytes() throws Exception {
        Path a = tmp.resolve("a.ext4"), b = tmp.resolve("b.ext4");
        try (FsTree t1 = Trees.random(42, 300); FsTree t2 = Trees.random(42, 300)) {
            new Ext4ImageWriter().journal(true).write(t1, a);
            new Ext4ImageWriter().journal(true).write(t2, b);
        }
        assertEquals(-1, Files.mismatch(a, b), "two builds of the same tree differ");
        try (FsTree t3 = Trees.random(43, 300)) {
            Ext4Image other = new Ext4ImageWriter().write(t3, b);
            assertFalse(Files.mismatch(a, b) == -1);
            assertTrue(other.uuid() != null);
        }
    }

    @Test
    void sourceDateEpochSetsTheFilesystemTimes() throws Exception {
        Path img = tmp.resolve("t.ext4");
        try (FsTree t = Trees.everyKind()) {
            new Ext4ImageWriter().sourceDateEpoch(1_234_567_890L).write(t, img);
        }
        ImageCheck.Run r = ImageCheck.run(tmp, "dumpe2fs", "-h", img.toString());
        assertTrue(r.out().contains("Filesystem created:       Fri Feb 13 23:31:30 2009"), r.out());
        ImageCheck.e2fsckClean(img);
    }

    @Test
    void treeTooBigForTheSizeIsRefused() throws Exception {
        try (FsTree t = new FsTree()) {
            t.put("big", new Node.File(Trees.meta(0644), Content.of(new byte[8 << 20])));
            var e = assertThrows(ImageToolsException.DoesNotFit.class, () -> new Ext4ImageWriter().size(4 << 20).write(t, tmp.resolve("x")));
            assertTrue(e.getMessage().contains("MiB"), e.getMessage());
        }
    }

    @Test
    void tooLongNamesAreRefused() {
        FsTree t = new FsTree();
        assertThrows(ImageToolsException.BadName.class, () -> t.put("a/" + "n".repeat(256), new Node.Dir(Trees.meta(0755))));
        assertThrows(ImageToolsException.BadName.class, () -> t.put("../x", new Node.Dir(Trees.meta(0755))));
    }

    @Test
    void xattrsInTheInodeAndInABlock() throws Exception {
        byte[] acl = new byte[4 + 5 * 8]; // VFS form: version 2, then (tag, perm, id) entries
        java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(acl).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.putInt(2);
        b.putShort((short) 1).putShort((short) 7).putInt(-1); // user::rwx
        b.putShort((short) 2).putShort((short) 4).putInt(1000); // user:1000:r
        b.putShort((short) 4).putShort((short) 5).putInt(-1); // group::r-x
        b.putShort((short) 0x10).putShort((short) 5).putInt(-1); // mask::r-x
        b.putShort((short) 0x20).putShort((short) 0).putInt(-1); // other::---
        try (FsTree t = new FsTree()) {
            t.put("small", new Node.File(Trees.meta(0644).withXattrs(java.util.Map.of("user.a", new byte[] {1, 2, 3})), Content.of(new byte[1])));
            t.put("big", new Node.File(Trees.meta(0644).withXattrs(java.util.Map.of("user.big", Trees.bytes(1000, 1),
                    "trusted.t", "x".getBytes(java.nio.charset.StandardCharsets.UTF_8), "system.posix_acl_access", acl)), Content.of(new byte[1])));
            t.put("dir", new Node.Dir(Trees.meta(0755).withXattrs(java.util.Map.of("user.d", Trees.bytes(300, 2)))));
            ImageCheck.roundTrip(t, new Ext4ImageWriter(), tmp);
            Path img = tmp.resolve("image.ext4");
            ImageCheck.Run r = ImageCheck.run(tmp, "debugfs", "-R", "ea_list /big", img.toString());
            assertTrue(r.out().contains("user.big (1000)") && r.out().contains("trusted.t (1) = \"x\"") && r.out().contains("system.posix_acl_access"), r.out());
            r = ImageCheck.run(tmp, "debugfs", "-R", "stat /big", img.toString());
            assertTrue(r.out().matches("(?s).*File ACL: [1-9].*"), "the big attributes are not in a block: " + r.out());
            r = ImageCheck.run(tmp, "debugfs", "-R", "ea_get /big user.big", img.toString());
            assertEquals(0, r.exit());
            r = ImageCheck.run(tmp, "debugfs", "-R", "ea_list /small", img.toString());
            assertTrue(r.out().contains("user.a (3)"), r.out());
        }
    }

    @Test
    void largeFileOverManyGroups() throws Exception {
        // 300 MiB, mostly zeros (not written: sparse) with marks at the start, the middle and the end
        long size = 300L << 20;
        Content c = Trees.zeros(size, 0, size / 2, size - 1);
        try (FsTree t = new FsTree()) {
            t.put("big", new Node.File(Trees.meta(0644), c));
            t.put("after", new Node.File(Trees.meta(0644), Content.of(Trees.bytes(5000, 9))));
            ImageCheck.roundTrip(t, new Ext4ImageWriter(), tmp);
        }
    }

    @Property(tries = 30)
    void randomTreesRoundTrip(@ForAll long seed, @ForAll @IntRange(min = 1, max = 600) int inodes) throws Exception {
        Path dir = Trees.tempDir();
        try (FsTree t = Trees.random(seed, inodes)) {
            ImageCheck.roundTrip(t, new Ext4ImageWriter().journal(seed % 3 == 0), dir);
        } finally {
            Trees.delete(dir);
        }
    }
}
