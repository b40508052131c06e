package hg.kvm.sys;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class VectoredIoPropertiesTest {

    /** Pieces of any sizes (empty ones too) read what lies at the offset, in order, and stop where the file ends. */
    @Property(tries = 60)
    void readsFillThePiecesInOrderUpToTheEndOfTheFile(@ForAll @Size(min = 1, max = 40) List<@IntRange(max = 9000) Integer> sizes,
                                                      @ForAll @IntRange(max = 200_000) int fileSize,
                                                      @ForAll @IntRange(max = 100_000) int offset,
                                                      @ForAll long seed) throws IOException {
        Path file = Files.createTempFile("vectored", ".img");
        try (Arena arena = Arena.ofConfined()) {
            byte[] content = new byte[fileSize];
            new Random(seed).nextBytes(content);
            Files.write(file, content);
            List<MemorySegment> pieces = new ArrayList<>();
            for (int size : sizes) {
                pieces.add(arena.allocate(size).fill((byte) 0x5a));
            }
            long total = sizes.stream().mapToLong(Integer::longValue).sum();
            long expected = Math.max(0, Math.min(total, (long) fileSize - offset));
            try (OfdLock lock = OfdLock.tryLock(file, true).orElseThrow()) {
                assertEquals(expected, VectoredIo.read(lock.fd(), pieces, offset));
            }
            byte[] got = joined(pieces);
            byte[] want = Arrays.copyOfRange(content, Math.min(offset, fileSize), (int) Math.min(fileSize, offset + total));
            assertArrayEquals(want, Arrays.copyOf(got, want.length));
            for (int i = want.length; i < got.length; i++) {
                assertEquals(0x5a, got[i], "past the end of the file a piece is left as it was");
            }
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /**
     * A file just written sits in the page cache: a read that may not wait gives what a plain read gives, or,
     * where the file system cannot tell (tmpfs before Linux 6.6), says so rather than guess.
     */
    @Property(tries = 20)
    void aCachedReadThatMayNotWaitReadsWhatAPlainReadDoes(@ForAll @Size(min = 1, max = 20) List<@IntRange(max = 9000) Integer> sizes,
                                                          @ForAll @IntRange(max = 50_000) int offset,
                                                          @ForAll long seed) throws IOException {
        for (Path dir : List.of(Path.of(System.getProperty("java.io.tmpdir")), Path.of("/dev/shm"))) {
            if (!Files.isDirectory(dir)) {
                continue;
            }
            Path file = Files.createTempFile(dir, "vectored", ".img");
            try (Arena arena = Arena.ofConfined()) {
                byte[] content = new byte[100_000];
                new Random(seed).nextBytes(content);
                Files.write(file, content);
                List<MemorySegment> plain = new ArrayList<>();
                List<MemorySegment> cached = new ArrayList<>();
                for (int size : sizes) {
                    plain.add(arena.allocate(size));
                    cached.add(arena.allocate(size));
                }
                try (OfdLock lock = OfdLock.tryLock(file, true).orElseThrow()) {
                    long n = VectoredIo.read(lock.fd(), plain, offset);
                    long m;
                    try {
                        m = VectoredIo.readIfCached(lock.fd(), cached, offset);
                    } catch (UnsupportedOperationException e) {
                        continue;
                    }
                    assertEquals(n, m, "in " + dir);
                    assertArrayEquals(joined(plain), joined(cached));
                }
            } finally {
                Files.deleteIfExists(file);
            }
        }
    }

    @Property(tries = 40)
    void writesPlaceEveryPieceInOrder(@ForAll @Size(min = 1, max = 40) List<@IntRange(max = 9000) Integer> sizes,
                                      @ForAll @IntRange(max = 100_000) int offset, @ForAll long seed) throws IOException {
        Path file = Files.createTempFile("vectored", ".img");
        try (Arena arena = Arena.ofConfined()) {
            Random random = new Random(seed);
            List<MemorySegment> pieces = new ArrayList<>();
            for (int size : sizes) {
                byte[] b = new byte[size];
                random.nextBytes(b);
                pieces.add(arena.allocate(size).copyFrom(MemorySegment.ofArray(b)));
            }
            try (OfdLock lock = OfdLock.tryLock(file, false).orElseThrow()) {
                VectoredIo.write(lock.fd(), pieces, offset);
            }
            byte[] written = joined(pieces);
            byte[] file2 = Files.readAllBytes(file);
            assertEquals(written.length == 0 ? 0 : offset + written.length, file2.length);
            assertArrayEquals(written, Arrays.copyOfRange(file2, Math.min(offset, file2.length), file2.length));
        } finally {
            Files.deleteIfExists(file);
        }
    }

    /** Heap memory, too many pieces, a descriptor that cannot write: each refused (the device answers IOERR to the last). */
    @org.junit.jupiter.api.Test
    void refusals() throws IOException {
        Path file = Files.createTempFile("vectored", ".img");
        try (Arena arena = Arena.ofConfined(); OfdLock lock = OfdLock.tryLock(file, true).orElseThrow()) {
            assertThrows(IllegalArgumentException.class,
                    () -> VectoredIo.read(lock.fd(), List.of(MemorySegment.ofArray(new byte[8])), 0));
            List<MemorySegment> many = java.util.Collections.nCopies(VectoredIo.MAX_PIECES + 1, arena.allocate(1));
            assertThrows(IllegalArgumentException.class, () -> VectoredIo.read(lock.fd(), many, 0));
            IOException e = assertThrows(IOException.class, () -> VectoredIo.write(lock.fd(), List.of(arena.allocate(512)), 0));
            assertTrue(e.getMessage().contains("EBADF"), e.getMessage());
        } finally {
            Files.deleteIfExists(file);
        }
    }

    private static byte[] joined(List<MemorySegment> pieces) {
        int total = pieces.stream().mapToInt(p -> (int) p.byteSize()).sum();
        byte[] out = new byte[total];
        int at = 0;
        for (MemorySegment p : pieces) {
            MemorySegment.copy(p, JAVA_BYTE, 0, out, at, (int) p.byteSize());
            at += (int) p.byteSize();
        }
        return out;
    }
}
