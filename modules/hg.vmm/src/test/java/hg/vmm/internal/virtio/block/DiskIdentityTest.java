package hg.vmm.internal.virtio.block;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DiskIdentityTest {

    @TempDir
    Path dir;

    Path image() throws IOException {
        Path p = dir.resolve("disk.img");
        Files.write(p, new byte[4096]);
        return p;
    }

    @Test
    void theSameUntouchedFileHasTheSameIdentity() throws IOException {
        Path p = image();
        DiskIdentity before = DiskIdentity.of(p);
        Files.readAllBytes(p);
        DiskImage.open(p, false).close();
        DiskIdentity now = DiskIdentity.of(p);
        assertEquals(before, now);
        assertEquals("", now.differenceFrom(before));
        assertEquals(4096, now.size());
        assertTrue(now.inode() != 0 && now.mtimeNanos() != 0 && now.ctimeNanos() != 0);
    }

    @Test
    void appendingChangesTheSize() throws IOException {
        Path p = image();
        DiskIdentity before = DiskIdentity.of(p);
        Files.write(p, new byte[1], StandardOpenOption.APPEND);
        assertEquals("its size changed from 4096 to 4097 bytes", DiskIdentity.of(p).differenceFrom(before));
    }

    @Test
    void aWriteInPlaceIsAModification() throws IOException {
        Path p = image();
        DiskIdentity before = DiskIdentity.of(p);
        Files.write(p, new byte[] {7}, StandardOpenOption.WRITE);
        // Coarse timestamps could hide a write within the same tick: make the time move for sure.
        Files.setLastModifiedTime(p, FileTime.fromMillis(before.mtimeNanos() / 1_000_000 + 2000));
        String line = DiskIdentity.of(p).differenceFrom(before);
        assertTrue(line.startsWith("it was modified after the snapshot (at "), line);
    }

    @Test
    void aWriteWithItsTimePutBackIsStillSeen() throws Exception {
        Path p = image();
        FileTime mtime = Files.getLastModifiedTime(p);
        DiskIdentity before = DiskIdentity.of(p);
        Thread.sleep(20);
        Files.write(p, new byte[] {7}, StandardOpenOption.WRITE);
        Files.setLastModifiedTime(p, mtime);
        DiskIdentity now = DiskIdentity.of(p);
        assertEquals(before.mtimeNanos(), now.mtimeNanos());
        String line = now.differenceFrom(before);
        assertTrue(line.startsWith("its inode changed after the snapshot"), line);
    }

    @Test
    void aFilePutInItsPlaceIsAnotherFile() throws IOException {
        Path p = image();
        DiskIdentity before = DiskIdentity.of(p);
        Path other = dir.resolve("other.img");
        Files.write(other, new byte[4096]);
        Files.move(other, p, StandardCopyOption.REPLACE_EXISTING);
        String line = DiskIdentity.of(p).differenceFrom(before);
        assertTrue(line.startsWith("another file is in its place (inode "), line);
    }

    @Test
    void aMissingImageFailsNamingIt() {
        IOException e = assertThrows(IOException.class, () -> DiskIdentity.of(dir.resolve("gone.img")));
        assertTrue(e.getMessage().startsWith("cannot identify disk image "), e.getMessage());
        assertTrue(e.getMessage().contains("gone.img"), e.getMessage());
    }
}
