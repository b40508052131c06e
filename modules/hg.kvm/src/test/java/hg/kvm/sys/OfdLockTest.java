package hg.kvm.sys;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OfdLockTest {
    @TempDir
    Path dir;

    @Test
    void twoDescriptionsOfOneProcessConflict() throws IOException {
        Path f = Files.write(dir.resolve("f"), new byte[16]);
        try (OfdLock writer = OfdLock.tryLock(f, false).orElseThrow()) {
            assertFalse(writer.shared());
            assertTrue(OfdLock.tryLock(f, true).isEmpty());
            assertTrue(OfdLock.tryLock(f, false).isEmpty());
            assertTrue(OfdLock.isLocked(f, true));
        }
        try (OfdLock a = OfdLock.tryLock(f, true).orElseThrow(); OfdLock b = OfdLock.tryLock(f, true).orElseThrow()) {
            assertTrue(a.shared() && b.shared());
            assertTrue(OfdLock.tryLock(f, false).isEmpty());
            assertFalse(OfdLock.isLocked(f, true));
            assertTrue(OfdLock.isLocked(f, false));
        }
        assertFalse(OfdLock.isLocked(f, false));
    }

    @Test
    void closingAnotherDescriptorOfTheFileKeepsTheLock() throws IOException {
        Path f = Files.write(dir.resolve("f"), new byte[16]);
        try (OfdLock lock = OfdLock.tryLock(f, false).orElseThrow()) {
            assertEquals(f, lock.path());
            FileChannel.open(f, StandardOpenOption.READ).close();
            assertTrue(OfdLock.isLocked(f, true));
        }
    }

    @Test
    void aProcessLockOfThisJvmConflictsToo() throws IOException {
        Path f = Files.write(dir.resolve("f"), new byte[16]);
        try (OfdLock lock = OfdLock.tryLock(f, false).orElseThrow();
             FileChannel c = FileChannel.open(f, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            assertFalse(lock.shared());
            assertTrue(c.tryLock() == null);
        }
    }

    @Test
    void createMakesTheLockFileAndAMissingFileIsAnError() {
        Path f = dir.resolve("new.lock");
        try (OfdLock lock = OfdLock.tryLock(f, false, true).orElseThrow()) {
            assertEquals(f, lock.path());
            assertTrue(Files.exists(f));
        }
        assertThrows(RuntimeException.class, () -> OfdLock.tryLock(dir.resolve("missing"), true));
    }
}
