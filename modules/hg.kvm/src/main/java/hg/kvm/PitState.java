package hg.kvm;

import java.util.Arrays;

/**
 * The in-kernel i8254's state (struct kvm_pit_state2: three 24-byte channels, flags, reserved),
 * kept as the kernel lays it out. The channels' count_load_time is host monotonic time in ns.
 */
public record PitState(byte[] raw) {
    public static final int SIZE = 112;

    public PitState {
        if (raw.length != SIZE) {
            throw new IllegalArgumentException("pit state must be 112 bytes, not " + raw.length);
        }
        raw = raw.clone();
    }

    @Override
    public byte[] raw() {
        return raw.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PitState p && Arrays.equals(raw, p.raw);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(raw);
    }

    @Override
    public String toString() {
        return "PitState[" + SIZE + " bytes]";
    }
}
