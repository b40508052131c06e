package hg.vmm.internal.snapshot;

import hg.kvm.CpuidEntry;
import hg.vmm.internal.cpu.CpuidCheck;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A restore checks the guest's CPUID against this host's: more features pass, one fewer is named. */
class CpuidCheckPropertiesTest {

    /** The words CpuidCheck compares: leaf, subleaf, register (0 eax .. 3 edx). */
    static final int[][] WORDS = {
            {0x1, 0, 2}, {0x1, 0, 3}, {0x7, 0, 1}, {0x7, 0, 2}, {0x7, 0, 3}, {0x7, 1, 0}, {0xd, 1, 0},
            {0x80000001, 0, 2}, {0x80000001, 0, 3}, {0x80000008, 0, 1},
    };
    /** Leaves whose subleaf matters, as KVM flags them. */
    static final int[] INDEXED = {0x4, 0x7, 0xb, 0xd, 0xf, 0x10, 0x12, 0x14, 0x1f, 0x8000001d};

    static boolean indexed(int leaf) {
        for (int l : INDEXED) {
            if (l == leaf) {
                return true;
            }
        }
        return false;
    }

    /**
     * A CPUID as KVM_GET_SUPPORTED_CPUID gives it: each (leaf, subleaf) once, the subleaf flag on
     * the leaves that have subleaves, the checked words present, other leaves besides, any order.
     */
    static List<CpuidEntry> cpuid(long seed, int extra) {
        Random r = new Random(seed);
        Map<Long, CpuidEntry> entries = new LinkedHashMap<>();
        for (int[] w : WORDS) {
            add(entries, w[0], w[1], r);
        }
        int[] leaves = {0x0, 0x2, 0x4, 0x6, 0xa, 0xb, 0xd, 0x14, 0x40000000, 0x40000001, 0x80000000, 0x80000007};
        for (int i = 0; i < extra; i++) {
            int leaf = leaves[r.nextInt(leaves.length)];
            add(entries, leaf, indexed(leaf) ? r.nextInt(4) : 0, r);
        }
        List<CpuidEntry> out = new ArrayList<>(entries.values());
        Collections.shuffle(out, r);
        return out;
    }

    private static void add(Map<Long, CpuidEntry> entries, int leaf, int subleaf, Random r) {
        int flags = indexed(leaf) ? CpuidEntry.FLAG_SIGNIFICANT_INDEX : 0;
        entries.putIfAbsent(((long) leaf << 32) | subleaf, new CpuidEntry(leaf, subleaf, flags, bits(r), bits(r), bits(r),
                bits(r)));
    }

    /** Feature words are sparse or dense; zero, all-ones and one bit come up. */
    private static int bits(Random r) {
        return switch (r.nextInt(5)) {
            case 0 -> 0;
            case 1 -> -1;
            case 2 -> 1 << r.nextInt(32);
            default -> r.nextInt();
        };
    }

    static int register(CpuidEntry e, int r) {
        return switch (r) {
            case 0 -> e.eax();
            case 1 -> e.ebx();
            case 2 -> e.ecx();
            default -> e.edx();
        };
    }

    static CpuidEntry withRegister(CpuidEntry e, int r, int v) {
        return e.withRegisters(r == 0 ? v : e.eax(), r == 1 ? v : e.ebx(), r == 2 ? v : e.ecx(), r == 3 ? v : e.edx());
    }

    static int indexOf(List<CpuidEntry> entries, int leaf, int subleaf) {
        for (int i = 0; i < entries.size(); i++) {
            if (entries.get(i).function() == leaf && entries.get(i).index() == subleaf) {
                return i;
            }
        }
        throw new AssertionError("no leaf 0x" + Integer.toHexString(leaf) + "." + subleaf);
    }

    @Provide
    Arbitrary<List<CpuidEntry>> cpuids() {
        return Combinators.combine(Arbitraries.longs(), Arbitraries.integers().between(0, 30)).as(CpuidCheckPropertiesTest::cpuid);
    }

    @Property(tries = 100)
    void aCpuidCoversItself(@ForAll("cpuids") List<CpuidEntry> cpuid) {
        assertEquals(Optional.empty(), CpuidCheck.missing(cpuid, cpuid));
        assertEquals(Optional.empty(), CpuidCheck.missing(List.of(), cpuid));
    }

    @Property(tries = 100)
    void aSupersetCoversIt(@ForAll("cpuids") List<CpuidEntry> given, @ForAll long seed) {
        Random r = new Random(seed);
        List<CpuidEntry> available = new ArrayList<>();
        for (CpuidEntry e : given) {
            available.add(new CpuidEntry(e.function(), e.index(), e.flags(), e.eax() | r.nextInt(), e.ebx() | r.nextInt(),
                    e.ecx() | r.nextInt(), e.edx() | r.nextInt()));
        }
        available.add(new CpuidEntry(0x7, 2, CpuidEntry.FLAG_SIGNIFICANT_INDEX, -1, -1, -1, -1));
        available.add(new CpuidEntry(0x80000021, 0, 0, -1, -1, -1, -1));
        Collections.shuffle(available, r);
        assertEquals(Optional.empty(), CpuidCheck.missing(given, available));
    }

    @Property(tries = 150)
    void oneFeatureBitLessIsNamed(@ForAll("cpuids") List<CpuidEntry> given, @ForAll @IntRange(max = 9) int word,
                                  @ForAll @IntRange(max = 31) int bit) {
        int[] w = WORDS[word];
        List<CpuidEntry> g = new ArrayList<>(given);
        int at = indexOf(g, w[0], w[1]);
        g.set(at, withRegister(g.get(at), w[2], register(g.get(at), w[2]) | 1 << bit));
        List<CpuidEntry> available = new ArrayList<>(g);
        available.set(at, withRegister(g.get(at), w[2], register(g.get(at), w[2]) & ~(1 << bit)));

        Optional<String> line = CpuidCheck.missing(g, available);
        assertTrue(line.isPresent(), "a lacking bit went unnoticed");
        String expected = String.format("CPUID leaf 0x%x.%d e%cx bits 0x%08x", w[0], w[1], "abcd".charAt(w[2]), 1 << bit);
        assertTrue(line.get().contains(expected), () -> "expected " + expected + " in: " + line.get());
        assertFalse(line.get().contains("\n"));
    }

    @Property(tries = 100)
    void aLeafTheHostLacksIsNamed(@ForAll("cpuids") List<CpuidEntry> given, @ForAll @IntRange(max = 9) int word) {
        int[] w = WORDS[word];
        List<CpuidEntry> g = new ArrayList<>(given);
        int at = indexOf(g, w[0], w[1]);
        g.set(at, withRegister(g.get(at), w[2], register(g.get(at), w[2]) | 1));
        List<CpuidEntry> available = new ArrayList<>();
        for (CpuidEntry e : g) {
            // Every word of every other leaf to spare, this (leaf, subleaf) gone.
            if (e.function() != w[0] || e.index() != w[1]) {
                available.add(e.withRegisters(-1, -1, -1, -1));
            }
        }
        Optional<String> line = CpuidCheck.missing(g, available);
        assertTrue(line.isPresent(), "a missing leaf went unnoticed");
        assertTrue(line.get().contains(String.format("leaf 0x%x.%d", w[0], w[1])), line.get());
    }
}
