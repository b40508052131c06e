package hg.kvm;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class SnapshotRecordsPropertiesTest {

    @Property
    void xsaveTakesExactlyTheSizesKvmCanUse(@ForAll @IntRange(min = 0, max = 20_000) int size) {
        if (size >= 4096 && size % 4 == 0) {
            byte[] region = new byte[size];
            region[size - 1] = 7;
            Xsave x = new Xsave(region);
            assertEquals(size, x.size());
            assertArrayEquals(region, x.region());
            assertEquals(new Xsave(region), x);
        } else {
            assertThrows(IllegalArgumentException.class, () -> new Xsave(new byte[size]));
        }
    }

    @Property
    void irqchipTakesOnlyTheThreeChipsAndTheirUnion(@ForAll @IntRange(min = -2, max = 5) int chip,
                                                    @ForAll @IntRange(min = 0, max = 1024) int length) {
        if (chip >= 0 && chip <= 2 && length == IrqchipState.DATA_SIZE) {
            assertEquals(chip, new IrqchipState(chip, new byte[length]).chipId());
        } else {
            assertThrows(IllegalArgumentException.class, () -> new IrqchipState(chip, new byte[length]));
        }
    }

    @Property
    void pitAndDebugRegsTakeOnlyTheKernelsShape(@ForAll @IntRange(min = 0, max = 300) int length) {
        if (length == PitState.SIZE) {
            assertEquals(PitState.SIZE, new PitState(new byte[length]).raw().length);
        } else {
            assertThrows(IllegalArgumentException.class, () -> new PitState(new byte[length]));
        }
        int n = length % 9;
        if (n == 4) {
            assertEquals(4, new DebugRegs(new long[n], 0, 0, 0).db().length);
        } else {
            assertThrows(IllegalArgumentException.class, () -> new DebugRegs(new long[n], 0, 0, 0));
        }
    }
}
