package hg.vmm.internal.legacy;

import java.util.Arrays;

/** What a {@link Serial16550} holds: its register file and the input the guest has not read. */
public record SerialState(int ier, int iir, int fcr, int lcr, int mcr, int lsr, int msr, int scr, int divisor,
                          boolean thrPending, boolean irqPending, byte[] pendingInput) {
    public SerialState {
        for (int r : new int[] {ier, iir, fcr, lcr, mcr, lsr, msr, scr}) {
            if ((r & ~0xff) != 0) {
                throw new IllegalArgumentException("a UART register holds 0x" + Integer.toHexString(r));
            }
        }
        if ((divisor & ~0xffff) != 0) {
            throw new IllegalArgumentException("UART divisor " + divisor + " is not 16 bits");
        }
        if (pendingInput.length > Serial16550.INPUT_LIMIT) {
            throw new IllegalArgumentException("UART input of " + pendingInput.length + " bytes exceeds "
                    + Serial16550.INPUT_LIMIT);
        }
        pendingInput = pendingInput.clone();
    }

    @Override
    public byte[] pendingInput() {
        return pendingInput.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof SerialState s && ier == s.ier && iir == s.iir && fcr == s.fcr && lcr == s.lcr && mcr == s.mcr
                && lsr == s.lsr && msr == s.msr && scr == s.scr && divisor == s.divisor && thrPending == s.thrPending
                && irqPending == s.irqPending && Arrays.equals(pendingInput, s.pendingInput);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(new int[] {ier, iir, fcr, lcr, mcr, lsr, msr, scr, divisor}) * 31
                + Arrays.hashCode(pendingInput);
    }
}
