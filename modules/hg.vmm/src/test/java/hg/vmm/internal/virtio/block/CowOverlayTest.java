package hg.vmm.internal.virtio.block;

import hg.kvm.testkit.LockProbe;
import hg.vmm.ImageBusyException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CowOverlayTest {

    static final int C = CowOverlay.CLUSTER;

    @TempDir
    Path dir;

    Path base(int size) throws IOException {
        Path p = dir.resolve("base.img");
        byte[] b = new byte[size];
        Arrays.fill(b, (byte) 0x11);
        Files.write(p, b);
        return p;
    }

    @Test
    void theBaseKeepsWritersOutWhileAnOverlayIsOpen() throws Exception {
        Path base = base(4 * C);
        try (CowOverlay overlay = CowOverlay.create(base, dir.resolve("vm.cow"), false)) {
            assertThrows(ImageBusyException.class, () -> DiskImage.open(base, false));
            assertEquals("refused", LockProbe.tryLockFromAnotherProcess(dir, base, false));
            assertEquals("locked", LockProbe.tryLockFromAnotherProcess(dir, base, true));
            // Another clone reads the same base.
            CowOverlay.create(base, dir.resolve("vm2.cow"), false).close();
            assertEquals(base, overlay.path());
            assertFalse(overlay.readOnly());
        }
        DiskImage.open(base, false).close();
    }

    @Test
    void aBaseAttachedReadWriteIsRefused() throws IOException {
        Path base = base(4 * C);
        try (DiskImage writer = DiskImage.open(base, false)) {
            assertFalse(writer.readOnly());
            ImageBusyException e = assertThrows(ImageBusyException.class,
                    () -> CowOverlay.create(base, dir.resolve("vm.cow"), false));
            assertTrue(e.getMessage().contains("base.img"), e.getMessage());
        }
        assertFalse(Files.exists(dir.resolve("vm.cow")));
    }

    @Test
    void anExistingOverlayIsRefusedAndTheBaseIsLetGo() throws IOException {
        Path base = base(4 * C);
        Path overlay = dir.resolve("vm.cow");
        Files.writeString(overlay, "someone's data");
        IOException e = assertThrows(IOException.class, () -> CowOverlay.create(base, overlay, false));
        assertTrue(e.getMessage().contains(overlay.toString()), e.getMessage());
        assertEquals("someone's data", Files.readString(overlay));
        DiskImage.open(base, false).close();
        IOException missing = assertThrows(IOException.class,
                () -> CowOverlay.create(base, dir.resolve("no/such/dir.cow"), false));
        assertTrue(missing.getMessage().startsWith("cannot create overlay "), missing.getMessage());
        assertTrue(missing.getMessage().endsWith("or its directory does not exist"), missing.getMessage());
        DiskImage.open(base, false).close();
    }

    @Test
    void aDiscardedOverlayNeverShowsOnDisk() throws IOException {
        Path base = base(4 * C);
        Path path = dir.resolve("vm.cow");
        try (CowOverlay overlay = CowOverlay.create(base, path, false)) {
            assertFalse(Files.exists(path));
            overlay.write(ByteBuffer.wrap(new byte[] {1, 2, 3}), 100);
            ByteBuffer back = ByteBuffer.allocate(4);
            overlay.read(back, 99);
            assertArrayEquals(new byte[] {0x11, 1, 2, 3}, back.array());
            assertEquals(path, overlay.overlayPath());
        }
        assertFalse(Files.exists(path));
    }

    @Test
    void aKeptOverlayIsPrivateSparseAndHoldsOnlyWhatWasWritten() throws Exception {
        int size = 64 << 20;
        Path base = dir.resolve("base.img");
        try (RandomAccessFile f = new RandomAccessFile(base.toFile(), "rw")) {
            f.setLength(size);
        }
        Path path = dir.resolve("vm.cow");
        try (CowOverlay overlay = CowOverlay.create(base, path, true)) {
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(path)));
            assertEquals(size, Files.size(path));
            assertEquals(0, Stat.allocatedBytes(path));
            // Three clusters: one whole, two touched by one unaligned write across their border.
            overlay.write(ByteBuffer.allocateDirect(C), 10L * C);
            overlay.write(ByteBuffer.allocate(100), 40L * C + C - 50);
            overlay.flush();
            assertEquals(3, overlay.writtenClusters());
            long used = Stat.allocatedBytes(path);
            assertTrue(used >= 3 * C && used <= 4 * C, "the overlay occupies " + used + " bytes");
        }
        assertTrue(Files.exists(path));
    }

    @Test
    void transfersOutsideTheDiskOrAfterCloseFail() throws IOException {
        Path base = base(2 * C + 10);
        CowOverlay overlay = CowOverlay.create(base, dir.resolve("vm.cow"), false);
        assertEquals(2 * C + 10, overlay.size());
        assertThrows(IOException.class, () -> overlay.write(ByteBuffer.allocate(11), 2 * C));
        assertThrows(IOException.class, () -> overlay.write(ByteBuffer.allocate(1), -1));
        assertThrows(IOException.class, () -> overlay.read(ByteBuffer.allocate(1), -1));
        assertEquals(0, overlay.read(ByteBuffer.allocate(1), 2 * C + 10));
        overlay.write(ByteBuffer.allocate(10), 2 * C);   // the partial last cluster, to its end
        assertEquals(1, overlay.writtenClusters());
        overlay.close();
        overlay.close();
        IOException e = assertThrows(IOException.class, () -> overlay.read(ByteBuffer.allocate(1), 0));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        DiskImage.open(base, false).close();
    }
}
