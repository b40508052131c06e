package hg.vmm.internal.cpu;

import hg.kvm.ClockData;
import hg.kvm.IrqchipState;
import hg.kvm.PitState;
import hg.kvm.VmFd;

import java.util.Objects;

/**
 * The VM-wide KVM state a snapshot needs besides memory and vCPUs: the in-kernel PICs, IOAPIC
 * and PIT, and the kvmclock. Capture it with every vCPU stopped, after their state.
 */
public record MachineState(IrqchipState picMaster, IrqchipState picSlave, IrqchipState ioapic, PitState pit,
                           ClockData clock) {
    public MachineState {
        Objects.requireNonNull(picMaster, "picMaster");
        Objects.requireNonNull(picSlave, "picSlave");
        Objects.requireNonNull(ioapic, "ioapic");
        Objects.requireNonNull(pit, "pit");
        Objects.requireNonNull(clock, "clock");
        if (picMaster.chipId() != IrqchipState.PIC_MASTER || picSlave.chipId() != IrqchipState.PIC_SLAVE
                || ioapic.chipId() != IrqchipState.IOAPIC) {
            throw new IllegalArgumentException("irqchip states in the wrong places: " + picMaster.chipId() + ", "
                    + picSlave.chipId() + ", " + ioapic.chipId());
        }
    }

    /** Reads the state of a VM made with {@code createIrqchip} and {@code createPit2}. */
    public static MachineState capture(VmFd vm) {
        return new MachineState(vm.irqchip(IrqchipState.PIC_MASTER), vm.irqchip(IrqchipState.PIC_SLAVE),
                vm.irqchip(IrqchipState.IOAPIC), vm.pit(), vm.clock());
    }

    /**
     * Writes the state into a VM set up like the captured one (irqchip and PIT created, memory
     * registered), before its vCPUs run. The clock goes in as captured: with
     * {@link ClockData#FLAG_REALTIME} KVM advances it by the wall time since the capture, without
     * it the guest's clock resumes at the captured value; {@link ClockData#withoutRealtime()} picks.
     */
    public void restoreInto(VmFd vm) {
        // The PICs before the IOAPIC, both before the PIT: the PIT's restarted timer raises IRQ 0
        // into whichever controllers are there, and those must already be in their restored state.
        vm.setIrqchip(picMaster);
        vm.setIrqchip(picSlave);
        vm.setIrqchip(ioapic);
        vm.setPit(pit);
        vm.setClock(clock);
    }
}
