package hg.vmm.internal.snapshot;

import hg.kvm.ClockData;
import hg.kvm.MsrEntry;
import hg.vmm.internal.cpu.ClockAdvance;
import hg.vmm.internal.cpu.MachineState;
import hg.vmm.internal.cpu.VcpuState;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** A restored guest's clocks move on by the time its snapshot lay on disk, and nothing else changes. */
class ClockAdvancePropertiesTest {

    // Twenty years at 10 GHz is the most ticks a signed 64-bit count holds with room; a 64-bit TSC itself
    // wraps after about 58 years at that rate.
    @Property(tries = 200)
    void theTscMovesOnByTheTimeAwayAtItsRate(@ForAll("vcpus") VcpuState s,
                                             @ForAll @LongRange(min = 0, max = 20L * 365 * 86_400_000_000_000L) long nanos,
                                             @ForAll @IntRange(min = 1, max = 10_000_000) int khz) {
        VcpuState moved = ClockAdvance.vcpu(s, nanos, khz);
        long ticks = java.math.BigInteger.valueOf(nanos).multiply(java.math.BigInteger.valueOf(khz))
                .divide(java.math.BigInteger.valueOf(1_000_000)).longValueExact();
        List<MsrEntry> before = s.msrs();
        List<MsrEntry> after = moved.msrs();
        assertEquals(before.size(), after.size());
        for (int i = 0; i < before.size(); i++) {
            long expected = before.get(i).index() == 0x10 ? before.get(i).data() + ticks : before.get(i).data();
            assertEquals(expected, after.get(i).data(), "msr 0x" + Integer.toHexString(before.get(i).index()));
        }
        assertEquals(s.regs(), moved.regs());
        assertEquals(s.lapic(), moved.lapic());
    }

    @Property(tries = 200)
    void theKvmclockMovesOnAndKvmIsNotAskedToMoveItAgain(@ForAll("machines") MachineState m,
                                                         @ForAll @LongRange(min = 0, max = 1L << 60) long nanos) {
        ClockData c = ClockAdvance.machine(m, nanos).clock();
        assertEquals(m.clock().clock() + nanos, c.clock());
        assertEquals(0, c.flags() & ClockData.FLAG_REALTIME);
        assertEquals(m.ioapic(), ClockAdvance.machine(m, nanos).ioapic());
    }

    @net.jqwik.api.Provide
    net.jqwik.api.Arbitrary<VcpuState> vcpus() {
        return SnapshotArbitraries.vcpuState();
    }

    @net.jqwik.api.Provide
    net.jqwik.api.Arbitrary<MachineState> machines() {
        return SnapshotArbitraries.machineState();
    }
}
