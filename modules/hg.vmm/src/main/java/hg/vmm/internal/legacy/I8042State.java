package hg.vmm.internal.legacy;

import java.util.Arrays;

/** What an {@link I8042} holds: status, command byte, output port, a command awaiting data, queued output bytes. */
public record I8042State(int status, int ctr, int outputPort, int pendingCommand, byte[] output) {
    public I8042State {
        for (int r : new int[] {status, ctr, outputPort, pendingCommand}) {
            if ((r & ~0xff) != 0) {
                throw new IllegalArgumentException("an i8042 register holds 0x" + Integer.toHexString(r));
            }
        }
        if (output.length > I8042.OUTPUT_LIMIT) {
            throw new IllegalArgumentException("i8042 output of " + output.length + " bytes exceeds " + I8042.OUTPUT_LIMIT);
        }
        output = output.clone();
    }

    @Override
    public byte[] output() {
        return output.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof I8042State s && status == s.status && ctr == s.ctr && outputPort == s.outputPort
                && pendingCommand == s.pendingCommand && Arrays.equals(output, s.output);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(new int[] {status, ctr, outputPort, pendingCommand}) * 31 + Arrays.hashCode(output);
    }
}
