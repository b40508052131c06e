package hg.vmm.internal.cpu;

import hg.kvm.ClockData;
import hg.kvm.MsrEntry;

import java.util.ArrayList;
import java.util.List;

/**
 * Moves a saved guest's clocks on by the time it spent on disk, so that its wall clock is right
 * after a restore without an agent inside: the kvmclock (a guest on kvm-clock) and each vCPU's
 * TSC (a guest whose clocksource is the TSC) go on by that time. KVM's own KVM_CLOCK_REALTIME
 * would do the first only, and only on hosts whose clocksource is the TSC.
 */
public final class ClockAdvance {
    static final int MSR_IA32_TSC = 0x10;

    private ClockAdvance() {
    }

    /** {@code m} with its kvmclock {@code nanos} later. */
    public static MachineState machine(MachineState m, long nanos) {
        ClockData c = m.clock();
        ClockData moved = new ClockData(c.clock() + nanos, c.flags() & ~ClockData.FLAG_REALTIME, 0, c.hostTsc());
        return new MachineState(m.picMaster(), m.picSlave(), m.ioapic(), m.pit(), moved);
    }

    /** {@code s} with its TSC {@code nanos} later at {@code tscKhz}. */
    public static VcpuState vcpu(VcpuState s, long nanos, int tscKhz) {
        if (nanos == 0 || tscKhz <= 0) {
            return s;
        }
        // In milliseconds first: nanoseconds times kHz would overflow after a few weeks on disk.
        long ticks = nanos / 1_000_000 * tscKhz + nanos % 1_000_000 * tscKhz / 1_000_000;
        List<MsrEntry> msrs = new ArrayList<>();
        for (MsrEntry e : s.msrs()) {
            msrs.add(e.index() == MSR_IA32_TSC ? new MsrEntry(e.index(), e.data() + ticks) : e);
        }
        return new VcpuState(s.regs(), s.sregs(), s.fpu(), s.xsave(), s.xcrs(), msrs, s.lapic(), s.mpState(), s.events(),
                s.debugRegs());
    }
}
