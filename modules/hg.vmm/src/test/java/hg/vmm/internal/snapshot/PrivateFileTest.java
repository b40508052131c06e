package hg.vmm.internal.snapshot;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Guest secrets go to disk readable by their owner alone, whole or not at all, never over a file in place. */
class PrivateFileTest {

    static void write(Path target, byte[] content) throws IOException {
        PrivateFile.write(target, out -> out.write(ByteBuffer.wrap(content)));
    }

    static List<Path> files(Path dir) throws IOException {
        try (var s = Files.list(dir)) {
            return s.sorted().toList();
        }
    }

    @Test
    void theFileIsTheOwnersAloneWhateverTheUmask(@TempDir Path dir) throws Exception {
        Path target = dir.resolve("state");
        write(target, new byte[] {1, 2, 3});
        assertEquals(PosixFilePermissions.fromString("rw-------"), Files.getPosixFilePermissions(target));
        assertArrayEquals(new byte[] {1, 2, 3}, Files.readAllBytes(target));
        assertEquals(List.of(target), files(dir), "a temporary file was left behind");
    }

    @Test
    void theModeIsNotWidenedWhenATargetWasReadableByOthers(@TempDir Path dir) throws Exception {
        Path target = dir.resolve("memory");
        Files.write(target, new byte[10]);
        Files.setPosixFilePermissions(target, PosixFilePermissions.fromString("rw-r--r--"));
        write(target, new byte[] {9});
        Set<PosixFilePermission> mode = Files.getPosixFilePermissions(target);
        assertEquals(PosixFilePermissions.fromString("rw-------"), mode);
    }

    @Test
    void theTargetIsReplacedNotRewritten(@TempDir Path dir) throws Exception {
        Path target = dir.resolve("memory");
        write(target, "old content".getBytes());
        Object inodeBefore = Files.readAttributes(target, "unix:ino").get("ino");
        // What a running VM's mapping sees: the old file, whole, after the new one is in place.
        try (FileChannel held = FileChannel.open(target, StandardOpenOption.READ)) {
            write(target, "new".getBytes());
            ByteBuffer b = ByteBuffer.allocate(64);
            held.read(b, 0);
            assertEquals("old content", new String(b.array(), 0, b.position()));
        }
        assertArrayEquals("new".getBytes(), Files.readAllBytes(target));
        assertNotEquals(inodeBefore, Files.readAttributes(target, "unix:ino").get("ino"));
        assertEquals(List.of(target), files(dir));
    }

    @Test
    void aFailingWriteLeavesTheTargetAsItWasAndNoTemporaryFile(@TempDir Path dir) throws Exception {
        Path target = dir.resolve("state");
        write(target, new byte[] {7});
        IOException io = new IOException("disk full");
        assertSame(io, assertThrows(IOException.class, () -> PrivateFile.write(target, out -> {
            out.write(ByteBuffer.wrap(new byte[4096]));
            throw io;
        })));
        RuntimeException rt = new UncheckedIOException(new IOException("broken"));
        assertSame(rt, assertThrows(RuntimeException.class, () -> PrivateFile.write(target, out -> {
            out.write(ByteBuffer.wrap(new byte[1]));
            throw rt;
        })));
        assertArrayEquals(new byte[] {7}, Files.readAllBytes(target));
        assertEquals(List.of(target), files(dir));
    }

    @Test
    void anErrorInTheBodyLeavesNoTemporaryFile(@TempDir Path dir) throws Exception {
        Path target = dir.resolve("memory");
        AssertionError error = new AssertionError("out of something");
        assertSame(error, assertThrows(AssertionError.class, () -> PrivateFile.write(target, out -> {
            out.write(ByteBuffer.wrap(new byte[16]));
            throw error;
        })));
        assertEquals(List.of(), files(dir), "a half-written file of guest memory stayed behind");
    }

    @Test
    void aTargetInADirectoryThatIsNotThereFails(@TempDir Path dir) {
        assertThrows(NoSuchFileException.class, () -> write(dir.resolve("gone/state"), new byte[1]));
    }

    @Test
    void aTargetThatIsADirectoryIsRefusedAndLeftAlone(@TempDir Path dir) throws Exception {
        Path target = Files.createDirectory(dir.resolve("state"));
        Files.write(target.resolve("inside"), new byte[1]);
        assertThrows(IOException.class, () -> write(target, new byte[1]));
        assertTrue(Files.isDirectory(target));
        assertEquals(List.of(target), files(dir));
    }
}
