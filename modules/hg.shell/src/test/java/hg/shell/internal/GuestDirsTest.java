package hg.shell.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GuestDirsTest {
    @TempDir
    Path tmp;

    @Test
    void theKernelCommandLineGivesTheDirectories() throws Exception {
        Path cmdline = Files.writeString(tmp.resolve("cmdline"),
                "console=ttyS0 guest_kernel=/srv/k quiet guest_image=\"/srv/my images\" rw\n");
        GuestDirs d = GuestDirs.resolve(null, null, cmdline);
        assertEquals(Path.of("/srv/k"), d.kernelDir());
        assertEquals(Path.of("/srv/my images"), d.imageDir());
    }

    @Test
    void flagsWinOverTheCommandLine() throws Exception {
        Path cmdline = Files.writeString(tmp.resolve("cmdline"), "guest_kernel=/srv/k guest_image=/srv/i");
        GuestDirs d = GuestDirs.resolve(Path.of("/a"), null, cmdline);
        assertEquals(Path.of("/a"), d.kernelDir());
        assertEquals(Path.of("/srv/i"), d.imageDir());
    }

    @Test
    void missingParametersSayHowToGiveThem() throws Exception {
        Path cmdline = Files.writeString(tmp.resolve("cmdline"), "console=ttyS0 guest_kernel= xguest_image=/x");
        GuestDirs d = GuestDirs.resolve(null, null, cmdline);
        assertNull(d.kernelDir());
        assertNull(d.imageDir());
        assertEquals("no guest kernel directory: start with --guest-kernel DIR or boot with guest_kernel=DIR on the "
                + "kernel command line", d.kernelNotGiven());
        GuestDirs gone = GuestDirs.resolve(null, null, tmp.resolve("nothing"));
        assertTrue(gone.imageNotGiven().endsWith("(" + tmp.resolve("nothing") + " cannot be read (no such file))"),
                gone.imageNotGiven());
    }

    @Test
    void theSnapshotDirectoryFromTheFlagOrGuestSnapshot() throws Exception {
        Path cmdline = Files.writeString(tmp.resolve("cmdline"), "guest_kernel=/k guest_snapshot=/srv/snap\n");
        assertEquals(Path.of("/srv/snap"), GuestDirs.resolve(null, null, cmdline).snapshotDir());
        assertEquals(Path.of("/s"), GuestDirs.resolve(Path.of("/a"), Path.of("/b"), Path.of("/s"), cmdline).snapshotDir());
        assertNull(GuestDirs.resolve(null, null, tmp.resolve("nothing")).snapshotDir());
    }

    @Test
    void theLastOccurrenceWins() {
        assertEquals(Path.of("/2"), GuestDirs.param("guest_kernel=/1 guest_kernel=/2", "guest_kernel"));
    }
}
