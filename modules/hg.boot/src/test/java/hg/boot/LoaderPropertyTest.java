package hg.boot;

import hg.kvm.GuestMemory;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.RandomDistribution;
import net.jqwik.api.statistics.Statistics;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AfterContainer;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Any bytes fed to a loader either load or are refused with a {@link BootException}: no other
 * exception escapes, and a refusal leaves guest memory as it was. Guest memory has a hole
 * (17..18 MiB) so that mutated addresses also land across region boundaries.
 */
class LoaderPropertyTest {
    static final long MiB = 1 << 20;
    static final GuestMemory MEMORY = GuestMemory.allocate(List.of(
            new GuestMemory.Range(0, 17 * MiB), new GuestMemory.Range(18 * MiB, 2 * MiB)));
    static final MemorySegment ZERO = MemorySegment.ofArray(new byte[(int) (17 * MiB)]);

    @AfterContainer
    static void release() {
        MEMORY.close();
    }

    enum Loader { ELF, BZIMAGE, ANY }

    @Property(tries = 300)
    void randomBytesLoadOrAreRefused(@ForAll("randomBytes") byte[] image, @ForAll Loader loader) {
        check(image, loader);
    }

    @Property(tries = 400)
    void mutatedVmlinuxLoadsOrIsRefused(@ForAll("mutatedVmlinux") byte[] image, @ForAll Loader loader) {
        check(image, loader);
        bothOutcomesSeen();
    }

    @Property(tries = 400)
    void mutatedBzImageLoadsOrIsRefused(@ForAll("mutatedBzImage") byte[] image, @ForAll Loader loader) {
        check(image, loader);
        bothOutcomesSeen();
    }

    /** Segments anywhere, of any size: placed in RAM at or above 1 MiB without overlap, or refused. */
    @Property(tries = 300)
    void segmentsAnywhereArePlacedInRamOrRefused(
            @ForAll("addresses") long a, @ForAll("sizes") long aSize, @ForAll("addresses") long b, @ForAll("sizes") long bSize) {
        byte[] image = new Fixtures.Elf().entry(a).segment(a, Fixtures.pattern(32, 1), Math.max(32, aSize))
                .segment(b, Fixtures.pattern(32, 2), Math.max(32, bSize)).build();
        check(image, Loader.ELF);
        Statistics.coverage(c -> {
            c.check("loaded").count(n -> n >= 5);
            c.check(KernelPlacementException.class.getSimpleName()).count(n -> n >= 50);
        });
    }

    @Provide
    Arbitrary<Long> addresses() {
        return Arbitraries.oneOf(Arbitraries.longs().between(0, 20 * MiB),
                Arbitraries.longs().between(16 * MiB, 20 * MiB).map(x -> x & ~0xfffL),
                Arbitraries.of(0x100000L, 0x10ff000L, 0x1100000L, 0x1200000L, 0x13fffe0L, -32L, Long.MAX_VALUE - 16));
    }

    @Provide
    Arbitrary<Long> sizes() {
        return Arbitraries.oneOf(Arbitraries.longs().between(32, 0x3000), Arbitraries.longs().between(0, 4 * MiB),
                Arbitraries.of(0x1000L, 0x100000L, 1L << 40));
    }

    /** The fixtures must exercise both sides, or the property proves nothing. */
    static void bothOutcomesSeen() {
        Statistics.coverage(c -> {
            c.check("loaded").count(n -> n >= 10);
            c.check(InvalidKernelException.class.getSimpleName()).count(n -> n >= 10);
        });
    }

    void check(byte[] image, Loader loader) {
        try {
            LoadedKernel k = switch (loader) {
                case ELF -> ElfLoader.load(MEMORY, image);
                case BZIMAGE -> BzImageLoader.load(MEMORY, image);
                case ANY -> KernelLoader.load(MEMORY, image);
            };
            assertTrue(MEMORY.contains(k.entry(), 1));
            assertTrue(k.start() >= X86Layout.HIMEM_START);
            assertTrue(KernelClassifier.classify(image).bootable(), "the classifier refused what a loader took");
            clear();
            Statistics.collect("loaded");
        } catch (BootException e) {
            Statistics.collect(e.getClass().getSimpleName());
            assertNotNull(e.getMessage());
            assertUntouched();
        }
        assertNotNull(KernelClassifier.classify(image)); // never throws
    }

    static void clear() {
        for (GuestMemory.Region r : MEMORY.regions()) {
            r.host().fill((byte) 0);
        }
    }

    static void assertUntouched() {
        for (GuestMemory.Region r : MEMORY.regions()) {
            assertEquals(-1, r.host().mismatch(ZERO.asSlice(0, r.size())), "a refused kernel wrote to guest memory");
        }
    }

    @Provide
    Arbitrary<byte[]> randomBytes() {
        return Arbitraries.bytes().array(byte[].class).ofMaxSize(4096);
    }

    @Provide
    Arbitrary<byte[]> mutatedVmlinux() {
        Fixtures.Elf crossing = new Fixtures.Elf().entry(0x1000000).segment(0x1000000, Fixtures.pattern(64, 2), 0x10000)
                .segment(0x1200000, Fixtures.pattern(64, 3), 64).pvh(0x1200010, 4);
        // A segment that ends exactly where the first RAM region ends: most edits of its size or address push it out.
        Fixtures.Elf edge = new Fixtures.Elf().entry(0x10ff000).segment(0x10ff000, Fixtures.pattern(64, 4), 0x1000);
        return mutate(Arbitraries.frequencyOf(Tuple.of(1, Arbitraries.just(Fixtures.vmlinux().build())),
                Tuple.of(1, Arbitraries.just(crossing.build())), Tuple.of(2, Arbitraries.just(edge.build()))), 64 + 56 * 3 + 64);
    }

    @Provide
    Arbitrary<byte[]> mutatedBzImage() {
        Fixtures.BzImage small = new Fixtures.BzImage();
        small.initSize = 0x100000;
        small.prefAddress = 0x200000;
        return mutate(Arbitraries.of(new Fixtures.BzImage().build(), small.build()), 0x290);
    }

    /** Overwrites bytes (mostly in the headers, which end near {@code headerBytes}) and truncates now and then. */
    static Arbitrary<byte[]> mutate(Arbitrary<byte[]> base, int headerBytes) {
        Arbitrary<Tuple.Tuple2<Integer, Byte>> edit = Combinators.combine(
                Arbitraries.frequencyOf(
                        Tuple.of(8, Arbitraries.integers().between(0, headerBytes).withDistribution(RandomDistribution.uniform())),
                        Tuple.of(1, Arbitraries.integers().between(0, 1 << 16).withDistribution(RandomDistribution.uniform()))),
                Arbitraries.frequencyOf(Tuple.of(3, Arbitraries.bytes()),
                        Tuple.of(1, Arbitraries.of((byte) 0, (byte) 0xff, (byte) 0x80, (byte) 1)))).as(Tuple::of);
        Arbitrary<Integer> cut = Arbitraries.frequencyOf(Tuple.of(4, Arbitraries.just(Integer.MAX_VALUE)),
                Tuple.of(1, Arbitraries.integers().between(0, 1 << 15)));
        return Combinators.combine(base, edit.list().ofMinSize(1).ofMaxSize(6), cut).as((b, edits, n) -> {
            byte[] out = Arrays.copyOf(b, Math.min(b.length, n));
            for (Tuple.Tuple2<Integer, Byte> e : edits) {
                if (e.get1() < out.length) {
                    out[e.get1()] = e.get2();
                }
            }
            return out;
        });
    }
}
