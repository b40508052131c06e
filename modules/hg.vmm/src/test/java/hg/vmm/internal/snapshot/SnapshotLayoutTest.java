package hg.vmm.internal.snapshot;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SnapshotLayoutTest {

    @Test
    void namesItsFiles(@TempDir Path dir) {
        SnapshotLayout l = new SnapshotLayout(dir);
        assertEquals(dir.resolve("state"), l.state());
        assertEquals(dir.resolve("memory"), l.memory());
        assertEquals(dir.resolve("vdb.img"), l.disk("vdb"));
    }

    @Test
    void holdsOnlyWhatLiesDirectlyInIt(@TempDir Path tmp) throws Exception {
        Path dir = Files.createDirectory(tmp.resolve("snap"));
        SnapshotLayout l = new SnapshotLayout(dir);
        assertTrue(l.holds(l.disk("vda")), "a disk image not yet written still lies in it");
        assertTrue(l.holds(dir.resolve("sub/..").resolve("vda.img")) || !Files.exists(dir.resolve("sub")));
        assertFalse(l.holds(dir.resolve("sub").resolve("vda.img")));
        assertFalse(l.holds(tmp.resolve("vda.img")));
        assertFalse(l.holds(dir), "the directory itself is not a file in it");
        assertFalse(l.holds(Path.of("/")));

        // The same directory by another name: a link to it, or a relative path.
        Path link = Files.createSymbolicLink(tmp.resolve("link"), dir);
        assertTrue(l.holds(link.resolve("vda.img")));
        assertTrue(new SnapshotLayout(link).holds(dir.resolve("vda.img")));
    }

    @Test
    void aDirectoryThatIsNotThereHoldsNothing(@TempDir Path tmp) {
        SnapshotLayout l = new SnapshotLayout(tmp.resolve("gone"));
        assertFalse(l.holds(l.state()));
    }
}
