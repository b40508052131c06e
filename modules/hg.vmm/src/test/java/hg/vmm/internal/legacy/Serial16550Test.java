package hg.vmm.internal.legacy;

import hg.vmm.internal.bus.CountingTrigger;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

import static hg.vmm.internal.legacy.Serial16550.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

class Serial16550Test {

    final CountingTrigger irq = new CountingTrigger();
    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    final Serial16550 uart = new Serial16550(irq, out::writeBytes);

    int in(int reg) {
        byte[] b = new byte[1];
        uart.read(reg, b);
        return b[0] & 0xff;
    }

    void outb(int reg, int value) {
        uart.write(reg, new byte[] {(byte) value});
    }

    @Test
    void resetStateIsWhatLinuxExpects() {
        assertEquals(IIR_NO_INT, in(IIR_FCR));
        assertEquals(LSR_THRE | LSR_TEMT, in(LSR));
        assertEquals(MSR_DCD | MSR_DSR | MSR_CTS, in(MSR));
        assertEquals(0, in(IER));
        assertEquals(0, irq.count());
    }

    @Test
    void scratchAndDivisorLatch() {
        outb(SCR, 0xa5);
        assertEquals(0xa5, in(SCR));
        outb(LCR, LCR_DLAB | 0x03);
        outb(DATA, 0x01);   // 115200 baud
        outb(IER, 0x00);
        assertEquals(0x01, in(DATA));
        assertEquals(0x00, in(IER));
        outb(LCR, 0x03);
        assertEquals(0x03, in(LCR));
        // With DLAB clear the same offsets are THR/IER again: the divisor write did not print.
        assertEquals(0, out.size());
        outb(IER, IER_RDI);
        assertEquals(IER_RDI, in(IER));
        outb(LCR, LCR_DLAB);
        assertEquals(0x00, in(IER));   // divisor high byte
    }

    @Test
    void fifoBitsShowIn16550AStyle() {
        outb(IIR_FCR, 0x07);
        assertEquals(0xc1, in(IIR_FCR));
        outb(IIR_FCR, 0x00);
        assertEquals(0x01, in(IIR_FCR));
    }

    @Test
    void loopbackWiresModemLinesAndData() {
        // Linux's autoconfig: loopback with OUT2 and RTS set must show DCD and CTS only.
        outb(MCR, MCR_LOOP | 0x0a);
        assertEquals(0x90, in(MSR) & 0xf0);
        outb(MCR, MCR_LOOP | MCR_DTR | MCR_OUT1);
        assertEquals(MSR_DSR | MSR_RI, in(MSR) & 0xf0);
        // Data written in loopback comes back instead of going out.
        outb(DATA, 'x');
        assertEquals(LSR_DR, in(LSR) & LSR_DR);
        assertEquals('x', in(DATA));
        assertEquals(0, out.size());
        // Outside input does not reach a looped-back line.
        assertEquals(0, uart.enqueueInput(new byte[] {'y'}));
        outb(MCR, MCR_OUT2);
        assertEquals(MSR_DCD | MSR_DSR | MSR_CTS, in(MSR));
    }

    @Test
    void thrEmptyInterruptDrivesTransmit() {
        outb(LCR, 0x03);
        // Enabling THRE interrupts with an empty holding register raises one.
        outb(IER, IER_THRI);
        assertEquals(1, irq.take());
        assertEquals(IIR_THRI, in(IIR_FCR) & 0x0f);
        // Reading IIR acknowledged it.
        assertEquals(IIR_NO_INT, in(IIR_FCR) & 0x0f);
        // The driver's interrupt handler fills the FIFO: each byte leaves at once and
        // THRE is pending again, with one edge per idle->pending change.
        for (char c : "hello".toCharArray()) {
            outb(DATA, c);
        }
        assertEquals(1, irq.take());
        assertEquals("hello", out.toString(StandardCharsets.US_ASCII));
        assertEquals(IIR_THRI, in(IIR_FCR) & 0x0f);
        // Nothing more to send: the driver masks THRE.
        outb(IER, 0);
        assertEquals(IIR_NO_INT, in(IIR_FCR) & 0x0f);
        assertEquals(0, irq.count());
    }

    @Test
    void linuxThreTestDoesNotFlagABrokenUart() {
        // serial8250_do_startup: THRE must be re-asserted whenever the interrupt is re-enabled.
        outb(IER, IER_THRI);
        int iir1 = in(IIR_FCR);
        outb(IER, 0);
        outb(IER, IER_THRI);
        int iir = in(IIR_FCR);
        outb(IER, 0);
        assertEquals(IIR_THRI, iir1 & 0x0f);
        assertEquals(IIR_THRI, iir & 0x0f);
        assertEquals(2, irq.count());
    }

    @Test
    void receivedDataRaisesInterruptUntilDrained() {
        outb(IIR_FCR, 0x07);
        outb(IER, IER_RDI);
        assertEquals(0, irq.count());
        assertEquals(3, uart.enqueueInput("ls\n".getBytes(StandardCharsets.US_ASCII)));
        assertEquals(1, irq.take());
        assertEquals(0xc0 | IIR_RDI, in(IIR_FCR));
        StringBuilder got = new StringBuilder();
        while ((in(LSR) & LSR_DR) != 0) {
            got.append((char) in(DATA));
        }
        assertEquals("ls\n", got.toString());
        assertEquals(0xc0 | IIR_NO_INT, in(IIR_FCR));
        // More input while idle: a new edge.
        uart.enqueueInput(new byte[] {'a'});
        assertEquals(1, irq.take());
        // More input while still pending: no new edge needed, the handler drains all.
        uart.enqueueInput(new byte[] {'b'});
        assertEquals(0, irq.take());
        assertEquals('a', in(DATA));
        assertEquals('b', in(DATA));
        assertEquals(0, in(LSR) & LSR_DR);
    }

    @Test
    void inputWaitsWhileInterruptsAreOffAndRaisesWhenEnabled() {
        uart.enqueueInput(new byte[] {'q'});
        assertEquals(0, irq.count());
        outb(IER, IER_RDI);
        assertEquals(1, irq.take());
        assertEquals('q', in(DATA));
    }

    @Test
    void receivedDataTakesPriorityOverThre() {
        outb(IER, IER_RDI | IER_THRI);
        irq.take();
        uart.enqueueInput(new byte[] {'z'});
        assertEquals(IIR_RDI, in(IIR_FCR) & 0x0f);
        in(DATA);
        assertEquals(IIR_THRI, in(IIR_FCR) & 0x0f);
    }

    @Test
    void overrunIsReportedAsLineStatus() {
        outb(IER, IER_RLSI);
        byte[] flood = new byte[INPUT_LIMIT + 10];
        assertEquals(INPUT_LIMIT, uart.enqueueInput(flood));
        assertEquals(10, uart.droppedInput());
        assertEquals(1, irq.take());
        assertEquals(IIR_RLSI, in(IIR_FCR) & 0x0f);
        assertEquals(LSR_OE, in(LSR) & LSR_OE);
        assertEquals(0, in(LSR) & LSR_OE);   // cleared by reading
        assertEquals(IIR_NO_INT, in(IIR_FCR) & 0x0f);
        outb(IIR_FCR, FCR_ENABLE | FCR_CLEAR_RCVR);
        assertEquals(0, uart.pendingInput());
    }

    @Test
    void oddAccessesAreHarmless() {
        byte[] wide = new byte[4];
        uart.read(2, wide);
        uart.read(100, wide);
        uart.write(-1, new byte[] {1});
        uart.write(3, new byte[0]);
        outb(LSR, 0);   // read-only
        assertEquals(LSR_THRE | LSR_TEMT, in(LSR));
    }
}
