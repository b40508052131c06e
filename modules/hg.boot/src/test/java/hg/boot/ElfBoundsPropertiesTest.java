package hg.boot;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.statistics.Statistics;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Crafted ELF headers (many program headers, many or large notes) are classified after a bounded read:
 * a vmlinux's header, at most a small program header table and a few KiB of notes.
 */
class ElfBoundsPropertiesTest {
    /** 64-byte header, a 64-entry program header table and 64 KiB of notes, with room to spare. */
    static final long READ_BUDGET = 72 << 10;
    /** Crafted note segments are kept to a few MiB so each try builds quickly. */
    static final int MAX_NOTE_SEGMENT = 2 << 20;

    @Property(tries = 60)
    void craftedNoteHeadersAreReadWithinTheBudget(@ForAll("noteHeaders") int noteHeaders,
                                                  @ForAll("notesPerSegment") int notes,
                                                  @ForAll @IntRange(min = 0, max = 64) int nameSize,
                                                  @ForAll @IntRange(min = 0, max = 64) int descSize) {
        int entry = 12 + (nameSize + 3) / 4 * 4 + (descSize + 3) / 4 * 4;
        int count = Math.min(notes, MAX_NOTE_SEGMENT / entry);
        ElfBoundsTest.Counted c = ElfBoundsTest.classify(Fixtures.noteFlood(noteHeaders, count, nameSize, descSize));
        assertTrue(c.bytesRead() <= READ_BUDGET, c.bytesRead() + " bytes read for " + noteHeaders + " note headers of "
                + count + " notes");
        switch (c.kind()) {
            case KernelKind.NotAKernel n -> {
                assertFalse(n.reason().isBlank());
                assertFalse(n.reason().contains("\n"), n.reason());
                Statistics.collect("refused");
            }
            case KernelKind.Vmlinux v -> Statistics.collect("vmlinux");
            case KernelKind.BzImage b -> fail("an ELF file classified as a bzImage");
        }
        Statistics.coverage(cov -> {
            cov.check("refused").count(n -> n >= 5);
            cov.check("vmlinux").count(n -> n >= 5);
        });
    }

    @Provide
    Arbitrary<Integer> noteHeaders() {
        return Arbitraries.frequencyOf(Tuple.of(3, Arbitraries.integers().between(0, 10)),
                Tuple.of(1, Arbitraries.integers().between(11, 2000)),
                Tuple.of(1, Arbitraries.of(63, 64, 65_533)));
    }

    @Provide
    Arbitrary<Integer> notesPerSegment() {
        return Arbitraries.frequencyOf(Tuple.of(3, Arbitraries.integers().between(0, 64)),
                Tuple.of(1, Arbitraries.integers().between(65, 200_000)));
    }
}
