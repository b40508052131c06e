package hg.vmm.internal.snapshot;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The state file on disk: written private and whole, read back only when whole and of this format. */
class SnapshotFileTest {

    @Test
    void writeThenRead(@TempDir Path dir) throws Exception {
        byte[] payload = SnapshotCodec.encode(SnapshotCodecBoundsTest.small());
        Path state = new SnapshotLayout(dir).state();
        SnapshotFile.write(state, payload);
        assertEquals(PosixFilePermissions.fromString("rw-------"), Files.getPosixFilePermissions(state));
        assertArrayEquals(payload, SnapshotFile.read(state));
        assertEquals(SnapshotCodecBoundsTest.small(), SnapshotCodec.decode(SnapshotFile.read(state)));
    }

    @Test
    void aFileCutShortOrGrownIsRefusedWithOneLine(@TempDir Path dir) throws Exception {
        Path state = dir.resolve("state");
        SnapshotFile.write(state, new byte[1000]);
        try (FileChannel c = FileChannel.open(state, StandardOpenOption.WRITE)) {
            c.truncate(500);
        }
        SnapshotFormatException e = assertThrows(SnapshotFormatException.class, () -> SnapshotFile.read(state));
        assertEquals("the state file is truncated (500 of 1056 bytes)", e.getMessage());

        SnapshotFile.write(state, new byte[10]);
        Files.write(state, new byte[3], StandardOpenOption.APPEND);
        e = assertThrows(SnapshotFormatException.class, () -> SnapshotFile.read(state));
        assertEquals("the state file has 3 bytes after its end", e.getMessage());
    }

    @Test
    void aFileLargerThanAnyStateIsRefusedUnread(@TempDir Path dir) throws Exception {
        Path state = dir.resolve("state");
        try (FileChannel c = FileChannel.open(state, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            c.write(ByteBuffer.wrap(new byte[1]), 1L << 40);  // sparse: a terabyte that takes no room
        }
        SnapshotFormatException e = assertThrows(SnapshotFormatException.class, () -> SnapshotFile.read(state));
        assertTrue(e.getMessage().contains("more than a snapshot holds"), e.getMessage());
    }

    @Test
    void otherVersionsAndOtherFilesAreNamed() {
        byte[] file = SnapshotFile.frame(new byte[4]);
        ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).putInt(8, 2);
        SnapshotFormatException e = assertThrows(SnapshotFormatException.class, () -> SnapshotFile.unframe(file));
        assertEquals("snapshot format version 2; this hyper-gen reads version 1", e.getMessage());
        e = assertThrows(SnapshotFormatException.class, () -> SnapshotFile.unframe("#!/bin/sh\necho hi\n".getBytes()));
        assertEquals("not a hyper-gen snapshot (no snapshot magic at its start)", e.getMessage());
        e = assertThrows(SnapshotFormatException.class, () -> SnapshotFile.unframe(new byte[0]));
        assertEquals("not a hyper-gen snapshot (no snapshot magic at its start)", e.getMessage());
    }

    /** Written, as a later writer might, into the header's reserved word, with a digest that matches. */
    @Test
    void aReservedWordThatIsNotZeroIsRefused() throws Exception {
        byte[] file = SnapshotFile.frame(new byte[] {1, 2, 3});
        ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).putInt(12, 1);
        byte[] digest = MessageDigest.getInstance("SHA-256").digest(Arrays.copyOf(file, file.length - 32));
        System.arraycopy(digest, 0, file, file.length - 32, 32);
        SnapshotFormatException e = assertThrows(SnapshotFormatException.class, () -> SnapshotFile.unframe(file));
        assertEquals("the state file's header has 0x00000001 where this format has zero", e.getMessage());
    }

    @Test
    void aLengthBeyondTheCeilingIsRefusedBeforeTheSizeIsCompared() {
        byte[] file = SnapshotFile.frame(new byte[4]);
        for (long length : new long[] {SnapshotFile.MAX_PAYLOAD + 1L, -1L, Long.MIN_VALUE, 1L << 32}) {
            byte[] d = Arrays.copyOf(file, file.length);
            ByteBuffer.wrap(d).order(ByteOrder.LITTLE_ENDIAN).putLong(16, length);
            SnapshotFormatException e = assertThrows(SnapshotFormatException.class, () -> SnapshotFile.unframe(d));
            assertTrue(e.getMessage().startsWith("the state claims " + Long.toUnsignedString(length) + " bytes"), e.getMessage());
        }
    }
}
