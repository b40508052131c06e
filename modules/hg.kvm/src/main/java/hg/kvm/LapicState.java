package hg.kvm;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/** The local APIC's 1 KiB register page (struct kvm_lapic_state). */
public record LapicState(byte[] regs) {
    public static final int SIZE = 1024;
    /** Local vector table entry registers (offsets in the page). */
    public static final int LVT_LINT0 = 0x350;
    public static final int LVT_LINT1 = 0x360;
    public static final int SPURIOUS_VECTOR = 0xf0;
    /** Delivery modes for the LVT entries. */
    public static final int DELIVERY_MODE_EXTINT = 0x7;
    public static final int DELIVERY_MODE_NMI = 0x4;

    public LapicState {
        if (regs.length != SIZE) {
            throw new IllegalArgumentException("lapic state must be 1024 bytes, not " + regs.length);
        }
        regs = regs.clone();
    }

    @Override
    public byte[] regs() {
        return regs.clone();
    }

    /** The 32-bit register at {@code offset}. */
    public int register(int offset) {
        return ByteBuffer.wrap(regs).order(ByteOrder.LITTLE_ENDIAN).getInt(offset);
    }

    /** A copy with the 32-bit register at {@code offset} set to {@code value}. */
    public LapicState withRegister(int offset, int value) {
        byte[] copy = regs.clone();
        ByteBuffer.wrap(copy).order(ByteOrder.LITTLE_ENDIAN).putInt(offset, value);
        return new LapicState(copy);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LapicState l && Arrays.equals(regs, l.regs);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(regs);
    }
}
