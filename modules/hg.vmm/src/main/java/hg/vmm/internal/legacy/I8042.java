package hg.vmm.internal.legacy;

import hg.vmm.internal.bus.InterruptTrigger;
import hg.vmm.internal.bus.BusDevice;
import hg.vmm.StopReason;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.function.Consumer;

/**
 * The PS/2 controller just far enough for Linux: it passes the controller self test, keeps
 * the command byte, answers the keyboard's identify/reset with an acknowledgement (through
 * IRQ 1) so probing ends at once instead of timing out, and treats a pulse of the reset
 * line (command 0xFE, Linux's {@code reboot=k}) as a guest reset. Registered at port 0x60
 * for five ports (0x60-0x64; 0x61 is served by KVM's PIT speaker port).
 */
public final class I8042 implements BusDevice {

    public static final int BASE_PORT = 0x60;
    public static final int PORT_COUNT = 5;
    public static final int KBD_IRQ = 1;

    private static final int DATA = 0, COMMAND = 4;
    private static final int STATUS_OBF = 0x01, STATUS_SYS = 0x04, STATUS_CMD = 0x08;
    private static final int CTR_KBD_INT = 0x01, CTR_TRANSLATE = 0x40;

    private static final int CMD_READ_CTR = 0x20, CMD_WRITE_CTR = 0x60;
    private static final int CMD_DISABLE_AUX = 0xa7, CMD_ENABLE_AUX = 0xa8, CMD_TEST_AUX = 0xa9;
    private static final int CMD_SELF_TEST = 0xaa, CMD_TEST_KBD = 0xab;
    private static final int CMD_DISABLE_KBD = 0xad, CMD_ENABLE_KBD = 0xae;
    private static final int CMD_READ_OUTP = 0xd0, CMD_WRITE_OUTP = 0xd1;
    private static final int CMD_RESET_CPU = 0xfe;

    private static final int KBD_ACK = 0xfa, KBD_RESET = 0xff, KBD_GET_ID = 0xf2, KBD_ECHO = 0xee;

    /** Bytes the controller queues for the guest at most. */
    static final int OUTPUT_LIMIT = 16;

    private final InterruptTrigger kbdIrq;
    private final Consumer<StopReason> stop;
    private final ArrayDeque<Integer> out = new ArrayDeque<>();
    private int status = STATUS_SYS;
    private int ctr = CTR_KBD_INT | 0x04 | 0x40;   // keyboard interrupt, POST passed, scancode translation
    private int outputPort = 0x03;                   // reset line high, A20 on
    private int pendingCommand;                      // a command waiting for its data byte, or 0

    public I8042(InterruptTrigger kbdIrq, Consumer<StopReason> stop) {
        this.kbdIrq = kbdIrq;
        this.stop = stop;
    }

    @Override
    public synchronized void read(long offset, byte[] data) {
        Arrays.fill(data, (byte) 0);
        if (offset == COMMAND) {
            data[0] = (byte) (status | (out.isEmpty() ? 0 : STATUS_OBF));
        } else if (offset == DATA) {
            Integer b = out.poll();
            data[0] = (byte) (b == null ? 0 : b);
            if (!out.isEmpty()) {
                // One interrupt per byte, as a real controller does.
                raise();
            }
        }
    }

    @Override
    public void write(long offset, byte[] data) {
        if (data.length == 0) {
            return;
        }
        int value = data[0] & 0xff;
        boolean reset = false;
        synchronized (this) {
            if (offset == COMMAND) {
                status |= STATUS_CMD;
                reset = command(value);
            } else if (offset == DATA) {
                status &= ~STATUS_CMD;
                reset = data(value);
            }
        }
        if (reset) {
            stop.accept(new StopReason.GuestReset());
        }
    }

    private boolean command(int cmd) {
        pendingCommand = 0;
        switch (cmd) {
            case CMD_READ_CTR -> push(ctr, false);
            case CMD_WRITE_CTR, CMD_WRITE_OUTP -> pendingCommand = cmd;
            case CMD_SELF_TEST -> push(0x55, false);
            case CMD_TEST_KBD -> push(0x00, false);
            case CMD_TEST_AUX -> push(0xff, false);   // no mouse port
            case CMD_READ_OUTP -> push(outputPort, false);
            case CMD_DISABLE_AUX, CMD_ENABLE_AUX, CMD_DISABLE_KBD, CMD_ENABLE_KBD -> { }
            case CMD_RESET_CPU -> {
                return true;
            }
            default -> {
                // Other pulse commands (0xf0-0xfd) pulse the reset line when bit 0 is clear.
                return cmd >= 0xf0 && (cmd & 1) == 0;
            }
        }
        return false;
    }

    private boolean data(int value) {
        int cmd = pendingCommand;
        pendingCommand = 0;
        if (cmd == CMD_WRITE_CTR) {
            ctr = value;
            return false;
        }
        if (cmd == CMD_WRITE_OUTP) {
            outputPort = value;
            // Bit 0 of the output port drives the CPU reset line (active low).
            return (value & 1) == 0;
        }
        // A byte for the keyboard: answer like a plain AT keyboard.
        switch (value) {
            case KBD_RESET -> {
                push(KBD_ACK, true);
                push(0xaa, true);
            }
            case KBD_GET_ID -> {
                push(KBD_ACK, true);
                push(0xab, true);
                push(0x83, true);
            }
            case KBD_ECHO -> push(KBD_ECHO, true);
            default -> push(KBD_ACK, true);
        }
        return false;
    }

    /**
     * CTRL, ALT and DEL pressed (make codes only, as Firecracker sends them): in scan code set 1 when the
     * command byte asks the controller to translate, set 2 otherwise, so the guest's keyboard driver reads
     * them in the set it expects. False when the buffer has no room for all of them; nothing is queued then.
     */
    public synchronized boolean pressCtrlAltDel() {
        int[] keys = (ctr & CTR_TRANSLATE) != 0 ? new int[] {0x1d, 0x38, 0xe0, 0x53} : new int[] {0x14, 0x11, 0xe0, 0x71};
        if (out.size() + keys.length > OUTPUT_LIMIT) {
            return false;
        }
        for (int k : keys) {
            push(k, true);
        }
        return true;
    }

    private void push(int b, boolean fromKeyboard) {
        boolean wasEmpty = out.isEmpty();
        if (out.size() < OUTPUT_LIMIT) {
            out.add(b);
        }
        if (fromKeyboard && wasEmpty) {
            raise();
        }
    }

    private void raise() {
        if ((ctr & CTR_KBD_INT) != 0) {
            kbdIrq.trigger();
        }
    }

    public synchronized I8042State state() {
        byte[] queued = new byte[out.size()];
        int i = 0;
        for (int b : out) {
            queued[i++] = (byte) b;
        }
        return new I8042State(status, ctr, outputPort, pendingCommand, queued);
    }

    /** Takes {@code s} over; raises no interrupt (the interrupt controller's own state says what is pending). */
    public synchronized void restore(I8042State s) {
        status = s.status();
        ctr = s.ctr();
        outputPort = s.outputPort();
        pendingCommand = s.pendingCommand();
        out.clear();
        for (byte b : s.output()) {
            out.add(b & 0xff);
        }
    }
}
