package hg.kvm;

import java.util.Arrays;

/**
 * One in-kernel interrupt controller's state (struct kvm_irqchip): which chip and its 512-byte
 * union, kept opaque (a kvm_pic_state or kvm_ioapic_state, zero-padded) so it goes back unchanged.
 */
public record IrqchipState(int chipId, byte[] data) {
    public static final int PIC_MASTER = 0;
    public static final int PIC_SLAVE = 1;
    public static final int IOAPIC = 2;
    public static final int DATA_SIZE = 512;

    public IrqchipState {
        checkChipId(chipId);
        if (data.length != DATA_SIZE) {
            throw new IllegalArgumentException("irqchip data must be 512 bytes, not " + data.length);
        }
        data = data.clone();
    }

    static void checkChipId(int chipId) {
        if (chipId < PIC_MASTER || chipId > IOAPIC) {
            throw new IllegalArgumentException("chip id must be 0 (PIC master), 1 (PIC slave) or 2 (IOAPIC), not "
                    + chipId);
        }
    }

    @Override
    public byte[] data() {
        return data.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof IrqchipState s && chipId == s.chipId && Arrays.equals(data, s.data);
    }

    @Override
    public int hashCode() {
        return chipId * 31 + Arrays.hashCode(data);
    }

    @Override
    public String toString() {
        return "IrqchipState[chipId=" + chipId + "]";
    }
}
