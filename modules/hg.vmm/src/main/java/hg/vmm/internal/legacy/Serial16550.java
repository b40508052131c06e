package hg.vmm.internal.legacy;

import hg.vmm.internal.bus.InterruptTrigger;
import hg.vmm.internal.bus.BusDevice;
import java.util.function.Consumer;

/**
 * A 16550A UART as Linux's 8250 driver expects it: the full register file (with the divisor
 * latch, FIFO control, loopback and scratch register), transmit that completes at once, a
 * receive queue fed by the console, and THRE / received-data / line-status / modem-status
 * interrupts. The interrupt line is modelled as a level; an edge is sent through the trigger
 * whenever it goes from idle to pending, which is what an edge-triggered irqfd needs.
 */
public final class Serial16550 implements BusDevice {

    public static final int COM1_PORT = 0x3f8;
    public static final int COM1_IRQ = 4;
    public static final int PORT_COUNT = 8;
    /** How much typed input may wait for the guest; more is dropped. */
    public static final int INPUT_LIMIT = 64 * 1024;
    /** The receive queue's first size; it doubles up to {@link #INPUT_LIMIT} as typed input waits. */
    static final int FIRST_RX = 256;

    // Register offsets.
    static final int DATA = 0, IER = 1, IIR_FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7;

    static final int IER_RDI = 0x01, IER_THRI = 0x02, IER_RLSI = 0x04, IER_MSI = 0x08;
    static final int IIR_NO_INT = 0x01, IIR_MSI = 0x00, IIR_THRI = 0x02, IIR_RDI = 0x04, IIR_RLSI = 0x06;
    static final int IIR_FIFO_ENABLED = 0xc0;
    static final int FCR_ENABLE = 0x01, FCR_CLEAR_RCVR = 0x02, FCR_CLEAR_XMIT = 0x04;
    static final int LCR_DLAB = 0x80;
    static final int MCR_DTR = 0x01, MCR_RTS = 0x02, MCR_OUT1 = 0x04, MCR_OUT2 = 0x08, MCR_LOOP = 0x10;
    static final int LSR_DR = 0x01, LSR_OE = 0x02, LSR_BI = 0x10, LSR_THRE = 0x20, LSR_TEMT = 0x40;
    static final int LSR_INT_ANY = 0x1e;
    static final int MSR_DELTAS = 0x0f, MSR_CTS = 0x10, MSR_DSR = 0x20, MSR_RI = 0x40, MSR_DCD = 0x80;

    private final InterruptTrigger irq;
    private final Consumer<byte[]> output;

    private byte[] rx = new byte[FIRST_RX];
    private int rxHead;
    private int rxCount;

    private int ier;
    private int iir = IIR_NO_INT;
    private int fcr;
    private int lcr;
    private int mcr = MCR_OUT2;
    private int lsr = LSR_THRE | LSR_TEMT;
    private int msr = MSR_DCD | MSR_DSR | MSR_CTS;
    private int scr;
    private int divisor = 0x0c;
    private boolean thrPending;
    private boolean irqPending;
    private long dropped;

    /** @param output receives every transmitted byte (the console), in order */
    public Serial16550(InterruptTrigger irq, Consumer<byte[]> output) {
        this.irq = irq;
        this.output = output;
    }

    @Override
    public synchronized void read(long offset, byte[] data) {
        java.util.Arrays.fill(data, (byte) 0);
        if (offset < 0 || offset >= PORT_COUNT) {
            return;
        }
        data[0] = (byte) readRegister((int) offset);
    }

    @Override
    public synchronized void write(long offset, byte[] data) {
        if (offset < 0 || offset >= PORT_COUNT || data.length == 0) {
            return;
        }
        writeRegister((int) offset, data[0] & 0xff);
    }

    private int readRegister(int reg) {
        boolean dlab = (lcr & LCR_DLAB) != 0;
        switch (reg) {
            case DATA -> {
                if (dlab) {
                    return divisor & 0xff;
                }
                int value = 0;
                if (rxCount > 0) {
                    value = rx[rxHead] & 0xff;
                    rxHead = (rxHead + 1) % rx.length;
                    rxCount--;
                }
                if (rxCount == 0) {
                    lsr &= ~(LSR_DR | LSR_BI);
                }
                updateInterrupt();
                return value;
            }
            case IER -> {
                return dlab ? (divisor >>> 8) & 0xff : ier;
            }
            case IIR_FCR -> {
                int value = iir;
                // Reading IIR while it reports THRE acknowledges that interrupt.
                if ((value & 0x0f) == IIR_THRI) {
                    thrPending = false;
                    updateInterrupt();
                }
                return value;
            }
            case LCR -> {
                return lcr;
            }
            case MCR -> {
                return mcr;
            }
            case LSR -> {
                int value = lsr;
                if ((lsr & (LSR_BI | LSR_OE)) != 0) {
                    lsr &= ~(LSR_BI | LSR_OE);
                    updateInterrupt();
                }
                return value;
            }
            case MSR -> {
                if ((mcr & MCR_LOOP) != 0) {
                    // Loopback wires the modem outputs to the inputs: RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD.
                    return ((mcr & (MCR_OUT1 | MCR_OUT2)) << 4) | ((mcr & MCR_RTS) << 3) | ((mcr & MCR_DTR) << 5);
                }
                int value = msr;
                if ((msr & MSR_DELTAS) != 0) {
                    msr &= ~MSR_DELTAS;
                    updateInterrupt();
                }
                return value;
            }
            case SCR -> {
                return scr;
            }
            default -> {
                return 0;
            }
        }
    }

    private void writeRegister(int reg, int value) {
        boolean dlab = (lcr & LCR_DLAB) != 0;
        switch (reg) {
            case DATA -> {
                if (dlab) {
                    divisor = (divisor & 0xff00) | value;
                    return;
                }
                if ((mcr & MCR_LOOP) != 0) {
                    receive(new byte[] {(byte) value}, 0, 1);
                } else {
                    output.accept(new byte[] {(byte) value});
                }
                // The byte left at once: the holding register is empty again.
                lsr |= LSR_THRE | LSR_TEMT;
                thrPending = true;
                updateInterrupt();
            }
            case IER -> {
                if (dlab) {
                    divisor = (divisor & 0x00ff) | (value << 8);
                    return;
                }
                int changed = (ier ^ value) & 0x0f;
                ier = value & 0x0f;
                if ((changed & IER_THRI) != 0) {
                    // Enabling THRE interrupts with an empty holding register raises one at once.
                    thrPending = (ier & IER_THRI) != 0 && (lsr & LSR_THRE) != 0;
                }
                updateInterrupt();
            }
            case IIR_FCR -> {
                if (((fcr ^ value) & FCR_ENABLE) != 0) {
                    value |= FCR_CLEAR_RCVR | FCR_CLEAR_XMIT;
                }
                if ((value & FCR_CLEAR_RCVR) != 0) {
                    rxHead = 0;
                    rxCount = 0;
                    lsr &= ~(LSR_DR | LSR_BI);
                }
                if ((value & FCR_CLEAR_XMIT) != 0) {
                    lsr |= LSR_THRE | LSR_TEMT;
                    thrPending = true;
                }
                fcr = value & 0xc9;
                iir = (fcr & FCR_ENABLE) != 0 ? (iir | IIR_FIFO_ENABLED) : (iir & ~IIR_FIFO_ENABLED);
                updateInterrupt();
            }
            case LCR -> lcr = value;
            case MCR -> {
                mcr = value & 0x1f;
                updateInterrupt();
            }
            case SCR -> scr = value;
            default -> {
                // LSR and MSR are read-only.
            }
        }
    }

    /** Bytes from the console for the guest to read. Returns how many were queued. */
    public synchronized int enqueueInput(byte[] bytes) {
        // In loopback the line is disconnected from the outside world.
        if ((mcr & MCR_LOOP) != 0) {
            return 0;
        }
        return receive(bytes, 0, bytes.length);
    }

    private int receive(byte[] bytes, int from, int length) {
        makeRoom((long) rxCount + length);
        int n = Math.min(length, rx.length - rxCount);
        for (int i = 0; i < n; i++) {
            rx[(rxHead + rxCount) % rx.length] = bytes[from + i];
            rxCount++;
        }
        if (n < length) {
            dropped += length - n;
            lsr |= LSR_OE;
        }
        if (n > 0) {
            lsr |= LSR_DR;
        }
        updateInterrupt();
        return n;
    }

    private void updateInterrupt() {
        int id;
        if ((ier & IER_RLSI) != 0 && (lsr & LSR_INT_ANY) != 0) {
            id = IIR_RLSI;
        } else if ((ier & IER_RDI) != 0 && (lsr & LSR_DR) != 0) {
            id = IIR_RDI;
        } else if ((ier & IER_THRI) != 0 && thrPending) {
            id = IIR_THRI;
        } else if ((ier & IER_MSI) != 0 && (msr & MSR_DELTAS) != 0) {
            id = IIR_MSI;
        } else {
            id = IIR_NO_INT;
        }
        iir = id | (iir & 0xf0);
        boolean pending = id != IIR_NO_INT;
        if (pending && !irqPending) {
            irq.trigger();
        }
        irqPending = pending;
    }

    /** Bytes of input dropped because the queue was full. */
    public synchronized long droppedInput() {
        return dropped;
    }

    /** Grows the receive queue towards {@code wanted} bytes (at most the limit), keeping what waits in order. */
    private void makeRoom(long wanted) {
        if (wanted <= rx.length || rx.length == INPUT_LIMIT) {
            return;
        }
        int size = rx.length;
        while (size < wanted && size < INPUT_LIMIT) {
            size = Math.min(INPUT_LIMIT, size * 2);
        }
        byte[] bigger = new byte[size];
        for (int i = 0; i < rxCount; i++) {
            bigger[i] = rx[(rxHead + i) % rx.length];
        }
        rx = bigger;
        rxHead = 0;
    }

    /** Bytes of the receive queue now (for tests). */
    synchronized int receiveQueueSize() {
        return rx.length;
    }

    /** Bytes of input the guest has not read yet. */
    public synchronized int pendingInput() {
        return rxCount;
    }

    public synchronized SerialState state() {
        byte[] pending = new byte[rxCount];
        for (int i = 0; i < rxCount; i++) {
            pending[i] = rx[(rxHead + i) % rx.length];
        }
        return new SerialState(ier, iir, fcr, lcr, mcr, lsr, msr, scr, divisor, thrPending, irqPending, pending);
    }

    /**
     * Takes {@code s} over. No edge is sent: the interrupt controller's restored state already
     * holds what the line did, and {@code irqPending} keeps the next edge where it belongs.
     */
    public synchronized void restore(SerialState s) {
        ier = s.ier();
        iir = s.iir();
        fcr = s.fcr();
        lcr = s.lcr();
        mcr = s.mcr();
        lsr = s.lsr();
        msr = s.msr();
        scr = s.scr();
        divisor = s.divisor();
        thrPending = s.thrPending();
        irqPending = s.irqPending();
        byte[] pending = s.pendingInput();
        rxHead = 0;
        rxCount = 0;
        makeRoom(pending.length);
        System.arraycopy(pending, 0, rx, 0, pending.length);
        rxCount = pending.length;
    }
}
