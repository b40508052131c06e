package hg.vmm.internal.virtio.block;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class SparseCopyTest {

    static final int B = SparseCopy.BLOCK;

    @TempDir
    Path dir;

    /** A fully allocated image of {@code size} bytes, zeros but for random bytes in the given blocks. */
    Path image(String name, long size, int... dataBlocks) throws IOException {
        Path p = dir.resolve(name);
        try (FileChannel c = FileChannel.open(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer zeros = ByteBuffer.allocate(1 << 20);
            for (long at = 0; at < size; at += zeros.capacity()) {
                c.write(zeros.clear().limit((int) Math.min(zeros.capacity(), size - at)), at);
            }
            Random random = new Random(size);
            for (int block : dataBlocks) {
                byte[] data = new byte[(int) Math.min(B, size - (long) block * B)];
                random.nextBytes(data);
                data[0] = 1;   // never all zeros
                c.write(ByteBuffer.wrap(data), (long) block * B);
            }
        }
        return p;
    }

    List<Path> files() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.sorted().toList();
        }
    }

    @Test
    void zeroBlocksBecomeHolesAndTheContentIsTheSame() throws Exception {
        // 1 MiB and a partial block; data at the start, in the middle, a run of two, and the partial tail.
        long size = (1 << 20) + 1000;
        Path from = image("disk.img", size, 0, 17, 100, 101, 256);
        Path to = dir.resolve("copy.img");
        SparseCopy.copy(from, to);
        assertArrayEquals(Files.readAllBytes(from), Files.readAllBytes(to));
        assertEquals(size, Files.size(to));
        long used = Stat.allocatedBytes(to);
        assertTrue(used <= 5 * B + B, "the copy occupies " + used + " bytes for five blocks of data");
        assertTrue(Stat.allocatedBytes(from) >= size - B);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(to)));
        assertEquals(List.of(to, from), files());
    }

    @Test
    void anAllZeroImageCopiesToOneHoleOfItsSize() throws Exception {
        Path from = image("disk.img", 3 * B + 5);
        Path to = dir.resolve("copy.img");
        SparseCopy.copy(from, to);
        assertEquals(3 * B + 5, Files.size(to));
        assertEquals(0, Stat.allocatedBytes(to));
        assertArrayEquals(new byte[3 * B + 5], Files.readAllBytes(to));
        Path empty = image("empty.img", 0);
        SparseCopy.copy(empty, dir.resolve("empty-copy.img"));
        assertEquals(0, Files.size(dir.resolve("empty-copy.img")));
    }

    @Test
    void anExistingTargetIsNeverReplaced() throws IOException {
        Path from = image("disk.img", B, 0);
        Path to = dir.resolve("copy.img");
        Files.writeString(to, "keep me");
        IOException e = assertThrows(IOException.class, () -> SparseCopy.copy(from, to));
        assertTrue(e.getMessage().contains("already exists"), e.getMessage());
        assertEquals("keep me", Files.readString(to));
        assertEquals(List.of(to, from), files());
    }

    @Test
    void aFailureLeavesNoPartialCopy() throws IOException {
        Path from = image("disk.img", 8 * B, 1, 2);
        Path to = dir.resolve("copy.img");
        IOException e = assertThrows(IOException.class, () -> SparseCopy.copy(from, to, () -> {
            List<Path> during = files();
            assertEquals(2, during.size());
            assertTrue(during.getFirst().getFileName().toString().startsWith(".copy.img."), "the temporary copy is beside the target");
            throw new IOException("No space left on device");
        }));
        assertEquals("cannot copy " + from + " to " + to + ": No space left on device", e.getMessage());
        assertEquals(List.of(from), files());
        // A target that appears while the copy is made is kept, and the copy dropped.
        assertThrows(IOException.class, () -> SparseCopy.copy(from, to, () -> Files.writeString(to, "theirs")));
        assertEquals("theirs", Files.readString(to));
        assertEquals(List.of(to, from), files());
        IOException missing = assertThrows(IOException.class, () -> SparseCopy.copy(dir.resolve("nope.img"), dir.resolve("x.img")));
        assertTrue(missing.getMessage().contains("nope.img"), missing.getMessage());
        IOException noDir = assertThrows(IOException.class, () -> SparseCopy.copy(from, dir.resolve("no/such/copy.img")));
        assertTrue(noDir.getMessage().endsWith("directory " + dir.resolve("no/such") + " does not exist"), noDir.getMessage());
    }

    /** Figures for the record: {@code -Dhg.bench=true} prints copy speed and the copies' sizes on disk. */
    @Test
    void speed() throws Exception {
        assumeTrue(Boolean.getBoolean("hg.bench"), "a measurement, run on demand");
        int[] some = new int[64];   // 64 blocks of data (256 KiB) spread over 256 MiB
        for (int i = 0; i < some.length; i++) {
            some[i] = i * 1021;
        }
        measure(image("sparse.img", 256L << 20, some), "256 MiB mostly empty");
        Path full = dir.resolve("full.img");
        try (RandomAccessFile f = new RandomAccessFile(full.toFile(), "rw")) {
            byte[] chunk = new byte[1 << 20];
            Random random = new Random(1);
            for (int i = 0; i < 64; i++) {
                random.nextBytes(chunk);
                f.write(chunk);
            }
        }
        measure(full, "64 MiB full");
    }

    void measure(Path from, String what) throws Exception {
        // The source's own dirty pages would be written by the copy's fsync: settle them first.
        try (FileChannel c = FileChannel.open(from, StandardOpenOption.WRITE)) {
            c.force(true);
        }
        SparseCopy.copy(from, dir.resolve("warm-up-" + from.getFileName()));
        long best = Long.MAX_VALUE;
        Path to = null;
        for (int run = 0; run < 3; run++) {
            to = dir.resolve("copy-" + run + "-" + from.getFileName());
            long t0 = System.nanoTime();
            SparseCopy.copy(from, to);
            best = Math.min(best, System.nanoTime() - t0);
        }
        double mb = Files.size(from) / 1e6;
        System.out.printf("SparseCopy %s: %.0f MB/s (best of 3 after a warm-up, %.1f ms), copy occupies %d KiB of %d KiB%n",
                what, mb / (best / 1e9), best / 1e6, Stat.allocatedBytes(to) / 1024, Files.size(to) / 1024);
        assertFalse(Files.size(to) == 0);
    }
}
