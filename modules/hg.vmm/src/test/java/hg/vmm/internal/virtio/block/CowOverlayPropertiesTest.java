package hg.vmm.internal.virtio.block;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.BitSet;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Random reads, writes and flushes, unaligned, across clusters and at the end of the disk, on two
 * overlays over one base, each checked against a byte array: every read is the model's, neither
 * overlay sees the other's writes, the base never changes and the overlay holds exactly the
 * clusters that were written.
 */
class CowOverlayPropertiesTest {

    static final int C = CowOverlay.CLUSTER;
    /** Whole clusters, a partial last cluster, less than one cluster, and a sector-aligned tail. */
    static final int[] SIZES = {3 * C, 5 * C + 1234, C - 100, 8 * C + 512};

    sealed interface Op {
    }

    /** {@code where} picks an offset (see {@link #offset}); {@code which} the overlay. */
    record Read(int where, int length, boolean which, boolean direct) implements Op {
    }

    record Write(int where, int length, boolean which, long seed) implements Op {
    }

    record Flush(boolean which) implements Op {
    }

    @Provide
    Arbitrary<List<Op>> ops() {
        Arbitrary<Integer> where = Arbitraries.integers().between(0, Integer.MAX_VALUE);
        Arbitrary<Integer> length = Arbitraries.frequencyOf(
                Tuple.of(3, Arbitraries.integers().between(0, 16)),
                Tuple.of(3, Arbitraries.integers().between(1, 3 * C + 7)),
                Tuple.of(2, Arbitraries.of(512, C, 2 * C, C - 1, C + 1)));
        Arbitrary<Boolean> bool = Arbitraries.of(true, false);
        Arbitrary<Op> read = Combinators.combine(where, length, bool, bool).as(Read::new);
        Arbitrary<Op> write = Combinators.combine(where, length, bool, Arbitraries.longs()).as(Write::new);
        Arbitrary<Op> flush = bool.map(Flush::new);
        return Arbitraries.frequencyOf(Tuple.of(5, read), Tuple.of(5, write), Tuple.of(1, flush))
                .list().ofMinSize(1).ofMaxSize(40);
    }

    /** Offsets near cluster edges and the disk's end come up often, anywhere else too. */
    static long offset(int where, long size) {
        long clusters = Math.ceilDiv(size, C);
        return switch (where % 4) {
            case 0 -> (where / 4) % (size + 1);
            case 1 -> Math.clamp((where / 8) % (clusters + 1) * C + (where / 4) % 7 - 3, 0, size);
            case 2 -> Math.max(0, size - (where / 4) % (2 * C));
            default -> Math.min(size, (where / 4) % clusters * C);
        };
    }

    @Property(tries = 300)
    void everyReadIsTheModelsAndTheBaseNeverChanges(@ForAll("ops") List<Op> ops,
                                                    @ForAll("sizes") int size,
                                                    @ForAll long baseSeed) throws Exception {
        Path dir = Files.createTempDirectory("cow-prop");
        try {
            byte[] base = new byte[size];
            new Random(baseSeed).nextBytes(base);
            Path basePath = dir.resolve("base.img");
            Files.write(basePath, base);
            byte[] hash = sha256(Files.readAllBytes(basePath));
            byte[][] model = {base.clone(), base.clone()};
            BitSet[] touched = {new BitSet(), new BitSet()};
            try (CowOverlay a = CowOverlay.create(basePath, dir.resolve("a.cow"), false);
                 CowOverlay b = CowOverlay.create(basePath, dir.resolve("b.cow"), false)) {
                CowOverlay[] overlays = {a, b};
                for (Op op : ops) {
                    switch (op) {
                        case Read r -> checkRead(overlays[index(r.which())], model[index(r.which())],
                                offset(r.where(), size), r.length(), r.direct());
                        case Write w -> {
                            int i = index(w.which());
                            long at = offset(w.where(), size);
                            int length = (int) Math.min(w.length(), size - at);
                            byte[] data = new byte[length];
                            new Random(w.seed()).nextBytes(data);
                            ByteBuffer src = ByteBuffer.allocateDirect(length).put(data).flip();
                            overlays[i].write(src, at);
                            assertEquals(0, src.remaining());
                            System.arraycopy(data, 0, model[i], (int) at, length);
                            if (length > 0) {
                                touched[i].set((int) (at / C), (int) ((at + length - 1) / C) + 1);
                            }
                        }
                        case Flush f -> overlays[index(f.which())].flush();
                    }
                }
                for (int i = 0; i < 2; i++) {
                    checkRead(overlays[i], model[i], 0, size, true);
                    assertEquals(touched[i].cardinality(), overlays[i].writtenClusters());
                }
            }
            assertArrayEquals(hash, sha256(Files.readAllBytes(basePath)));
            try (Stream<Path> left = Files.list(dir)) {
                assertEquals(List.of(basePath), left.toList(), "discarded overlays leave no file");
            }
        } finally {
            try (Stream<Path> files = Files.list(dir)) {
                for (Path p : files.toList()) {
                    Files.delete(p);
                }
            }
            Files.delete(dir);
        }
    }

    @Provide
    Arbitrary<Integer> sizes() {
        return Arbitraries.of(Arrays.stream(SIZES).boxed().toList());
    }

    static int index(boolean which) {
        return which ? 1 : 0;
    }

    /** Reads into a buffer bordered by sentinels: it gets the model's bytes and nothing past the disk's end. */
    static void checkRead(CowOverlay overlay, byte[] model, long at, int length, boolean direct) throws IOException {
        int pad = 3;
        ByteBuffer whole = direct ? ByteBuffer.allocateDirect(length + 2 * pad) : ByteBuffer.allocate(length + 2 * pad);
        for (int i = 0; i < whole.capacity(); i++) {
            whole.put(i, (byte) 0x5a);
        }
        ByteBuffer dst = whole.slice(pad, length);
        int expected = (int) Math.max(0, Math.min(length, model.length - at));
        assertEquals(expected, overlay.read(dst, at));
        assertEquals(expected, dst.position());
        assertEquals(length, dst.limit());
        byte[] got = new byte[length + 2 * pad];
        whole.get(0, got);
        byte[] want = new byte[length + 2 * pad];
        Arrays.fill(want, (byte) 0x5a);
        System.arraycopy(model, (int) at, want, pad, expected);
        assertArrayEquals(want, got, () -> "read of " + length + " at " + at);
    }

    static byte[] sha256(byte[] b) throws NoSuchAlgorithmException {
        return MessageDigest.getInstance("SHA-256").digest(b);
    }
}
