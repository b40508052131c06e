package hg.vmm.internal.virtio.console;

import hg.kvm.GuestMemory;
import hg.vmm.internal.bus.CountingTrigger;
import hg.vmm.internal.virtio.MockDriver;
import hg.vmm.internal.virtio.MockDriver.Buf;
import hg.vmm.internal.virtio.Virtio;
import hg.vmm.internal.virtio.VirtioMmioTransport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static hg.vmm.internal.virtio.VirtioMmioTransport.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class VirtioConsoleTest {
    static final long RX_DATA = 0x40000;
    static final long TX_DATA = 0x80000;

    final GuestMemory memory = GuestMemory.allocate(List.of(new GuestMemory.Range(0, 0x200000)));
    final CountingTrigger irq = new CountingTrigger();
    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    VirtioConsole device;
    VirtioMmioTransport transport;
    MockDriver rx;
    MockDriver tx;

    @BeforeEach
    void attach() {
        device = new VirtioConsole(out::writeBytes);
        transport = new VirtioMmioTransport("console", device, memory, irq);
        device.onInput(() -> transport.processQueue(VirtioConsole.RX));
        rx = new MockDriver(memory, transport, 16, 0x1000);
        tx = new MockDriver(memory, transport, 16, 0x3000);
        assertEquals(VirtioConsole.DEVICE_ID, rx.reg(REG_DEVICE_ID));
        assertNotEquals(0, setUp() & Virtio.STATUS_DRIVER_OK);
    }

    @AfterEach
    void close() {
        transport.close();
        memory.close();
    }

    /** Both queues, as Linux's virtio_console sets up port 0 without multiport. */
    int setUp() {
        return MockDriver.setUp(List.of(rx, tx));
    }

    void send(String text) {
        byte[] b = text.getBytes(StandardCharsets.US_ASCII);
        memory.write(TX_DATA, b);
        tx.offer(tx.chain(List.of(Buf.out(TX_DATA, b.length))));
        rx.reg(REG_QUEUE_NOTIFY, VirtioConsole.TX);
    }

    void postReceive(int index, int length) {
        rx.offer(rx.chain(List.of(Buf.in(RX_DATA + 0x1000L * index, length))));
        rx.reg(REG_QUEUE_NOTIFY, VirtioConsole.RX);
    }

    @Test
    void theGuestsOutputReachesTheConsoleInOrderAndEachChainIsReturned() {
        send("Linux version 6.1");
        send(" ... hvc0 enabled\r\n");
        assertEquals("Linux version 6.1 ... hvc0 enabled\r\n", out.toString(StandardCharsets.US_ASCII));
        List<int[]> used = tx.takeUsed();
        assertEquals(2, used.size());
        assertEquals(0, used.get(0)[1], "the device writes nothing into a transmit chain");
    }

    @Test
    void inputWaitsForAReceiveBufferThenFillsIt() {
        assertEquals(3, device.enqueueInput("ls\r".getBytes(StandardCharsets.US_ASCII)));
        assertTrue(rx.takeUsed().isEmpty(), "no buffer posted yet");
        irq.take();
        postReceive(0, 4096);
        List<int[]> used = rx.takeUsed();
        assertEquals(1, used.size());
        assertEquals(3, used.getFirst()[1]);
        assertEquals("ls\r", new String(memory.read(RX_DATA, 3), StandardCharsets.US_ASCII));
        assertEquals(1, irq.take(), "the guest is interrupted for its input");
        // With a buffer posted, input goes straight in.
        postReceive(1, 4096);
        device.enqueueInput("x".getBytes(StandardCharsets.US_ASCII));
        used = rx.takeUsed();
        assertEquals(1, used.size());
        assertEquals("x", new String(memory.read(RX_DATA + 0x1000, 1), StandardCharsets.US_ASCII));
    }

    @Test
    void inputLargerThanABufferSpreadsOverSeveral() {
        postReceive(0, 2);
        postReceive(1, 2);
        device.enqueueInput("abcde".getBytes(StandardCharsets.US_ASCII));
        List<int[]> used = rx.takeUsed();
        assertEquals(2, used.size());
        assertEquals("ab", new String(memory.read(RX_DATA, 2), StandardCharsets.US_ASCII));
        assertEquals("cd", new String(memory.read(RX_DATA + 0x1000, 2), StandardCharsets.US_ASCII));
        postReceive(2, 2);
        assertEquals("e", new String(memory.read(RX_DATA + 0x2000, 1), StandardCharsets.US_ASCII));
    }

    @Test
    void inputWithNoReaderIsBoundedNotKeptWithoutEnd() {
        byte[] flood = new byte[10_000];
        assertEquals(VirtioConsole.INPUT_LIMIT, device.enqueueInput(flood));
        assertEquals(0, device.enqueueInput(new byte[] {1}));
        assertEquals(10_000 - VirtioConsole.INPUT_LIMIT + 1, device.droppedInput());
    }

    @Test
    void aHugeTransmitChainIsPassedOnOnlyUpToTheCap() {
        tx.offer(tx.chain(List.of(Buf.out(0x100000, 0x100000))));
        rx.reg(REG_QUEUE_NOTIFY, VirtioConsole.TX);
        assertEquals(VirtioConsole.MAX_CHAIN_OUTPUT, out.size());
        assertEquals(1, tx.takeUsed().size());
    }

    @Test
    void aBufferOutsideGuestMemoryBreaksTheDeviceNotTheVmm() {
        tx.offer(tx.chain(List.of(Buf.out(0x1ff000, 0x2000))));
        rx.reg(REG_QUEUE_NOTIFY, VirtioConsole.TX);
        assertEquals(0, out.size());
        assertNotEquals(0, rx.reg(REG_STATUS) & Virtio.STATUS_DEVICE_NEEDS_RESET);
        assertNotNull(transport.failure());
        // The driver resets it and it works again.
        rx = new MockDriver(memory, transport, 16, 0x1000);
        tx = new MockDriver(memory, transport, 16, 0x3000);
        assertNotEquals(0, setUp() & Virtio.STATUS_DRIVER_OK);
        send("again");
        assertEquals("again", out.toString(StandardCharsets.US_ASCII));
    }

    @Test
    void nothingMovesWhileASnapshotIsTakenAndWaitingInputArrivesAfter() {
        postReceive(0, 64);
        device.beforeSnapshot();
        device.enqueueInput("q".getBytes(StandardCharsets.US_ASCII));
        send("held");
        assertTrue(rx.takeUsed().isEmpty());
        assertTrue(tx.takeUsed().isEmpty());
        assertEquals(0, out.size());
        device.afterSnapshot();
        assertArrayEquals("q".getBytes(StandardCharsets.US_ASCII), memory.read(RX_DATA, 1));
        rx.reg(REG_QUEUE_NOTIFY, VirtioConsole.TX);
        assertEquals("held", out.toString(StandardCharsets.US_ASCII));
    }
}
