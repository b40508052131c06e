package hg.vmm.internal.virtio;

import hg.vmm.internal.bus.CountingTrigger;
import hg.kvm.GuestMemory;
import hg.vmm.internal.log.RateLimitedLog;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;

import static hg.vmm.internal.virtio.MockDriver.Buf;
import static hg.vmm.internal.virtio.VirtioMmioTransport.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class VirtioMmioTransportTest {

    static final long RING_FEATURES = Virtio.bit(Virtio.F_VERSION_1) | Virtio.bit(Virtio.F_INDIRECT_DESC)
            | Virtio.bit(Virtio.F_EVENT_IDX);
    static final long DATA = 0x10000;

    final GuestMemory memory = GuestMemory.allocate(List.of(new GuestMemory.Range(0, 0x40000)));
    final CountingTrigger irq = new CountingTrigger();
    final RecordingDevice device = new RecordingDevice(RING_FEATURES | 0b101, 8);
    final VirtioMmioTransport transport = new VirtioMmioTransport("test", device, memory, irq);
    final MockDriver driver = new MockDriver(memory, transport, 8, 0x1000);

    @AfterEach
    void close() {
        memory.close();
    }

    @Test
    void identifiesAsVersion2() {
        assertEquals(MAGIC, driver.reg(REG_MAGIC));
        assertEquals(2, driver.reg(REG_VERSION));
        assertEquals(42, driver.reg(REG_DEVICE_ID));
        assertEquals(RING_FEATURES | 0b101, driver.deviceFeatures());
        assertEquals(8, driver.reg(REG_QUEUE_NUM_MAX));
        driver.reg(REG_QUEUE_SEL, 1);
        assertEquals(0, driver.reg(REG_QUEUE_NUM_MAX));   // no such queue
        assertEquals(-1, driver.reg(REG_SHM_LEN_LOW));
        // Registers answer 32-bit aligned accesses only.
        byte[] narrow = new byte[2];
        transport.read(REG_MAGIC, narrow);
        assertEquals(0, narrow[0]);
        assertEquals("virtio_mmio.device=4K@0xd0000000:5", cmdlineEntry(0xd000_0000L, 5));
    }

    @Test
    void configSpaceIsByteAddressable() {
        byte[] two = new byte[2];
        transport.read(REG_CONFIG + 2, two);
        assertEquals(3, two[0]);
        assertEquals(4, two[1]);
        transport.write(REG_CONFIG, new byte[] {9});
        byte[] one = new byte[1];
        transport.read(REG_CONFIG, one);
        assertEquals(9, one[0]);
    }

    @Test
    void handshakeActivatesQueues() {
        int status = driver.setUp(RING_FEATURES);
        assertEquals(Virtio.STATUS_ACKNOWLEDGE | Virtio.STATUS_DRIVER | Virtio.STATUS_FEATURES_OK
                | Virtio.STATUS_DRIVER_OK, status);
        assertEquals(1, driver.reg(REG_QUEUE_READY));
        assertNotNull(device.memory);
        // Queue registers are frozen once live.
        driver.reg(REG_QUEUE_NUM, 4);
        assertEquals(8, device.queues.getFirst().size());
    }

    @Test
    void featuresOkIsRefusedForUnofferedFeaturesOrWithoutVersion1() {
        int status = driver.setUp(RING_FEATURES | Virtio.bit(40));
        assertEquals(0, status & Virtio.STATUS_FEATURES_OK);
        status = driver.setUp(Virtio.bit(Virtio.F_INDIRECT_DESC));
        assertEquals(0, status & Virtio.STATUS_FEATURES_OK);
        assertNull(device.memory);
        // Features may not change after FEATURES_OK.
        driver.setUp(Virtio.bit(Virtio.F_VERSION_1));
        driver.reg(REG_DRIVER_FEATURES_SEL, 0);
        driver.reg(REG_DRIVER_FEATURES, 0xffff_ffff);
        driver.notifyQueue();
        assertNull(transport.failure());
    }

    @Test
    void driverOkWithoutFeaturesOkBreaksTheDevice() {
        driver.reg(REG_STATUS, Virtio.STATUS_ACKNOWLEDGE | Virtio.STATUS_DRIVER | Virtio.STATUS_DRIVER_OK);
        assertNotEquals(0, driver.reg(REG_STATUS) & Virtio.STATUS_DEVICE_NEEDS_RESET);
    }

    @Test
    void requestsComeBackUsedWithOneInterrupt() {
        driver.setUp(Virtio.bit(Virtio.F_VERSION_1));
        int a = driver.chain(List.of(Buf.out(DATA, 16), Buf.in(DATA + 0x100, 32)));
        int b = driver.chain(List.of(Buf.in(DATA + 0x200, 8)));
        driver.offer(a);
        driver.offer(b);
        driver.notifyQueue();
        List<int[]> used = driver.takeUsed();
        assertEquals(2, used.size());
        assertEquals(a, used.get(0)[0]);
        assertEquals(32, used.get(0)[1]);
        assertEquals(b, used.get(1)[0]);
        assertEquals(8, used.get(1)[1]);
        assertEquals(0xab, memory.readU8(DATA + 0x100));
        assertEquals(0, memory.readU8(DATA));   // readable buffer untouched
        assertEquals(1, irq.take());
        assertEquals(Virtio.INTERRUPT_USED_BUFFER, driver.reg(REG_INTERRUPT_STATUS));
        // Not acknowledged yet: more used buffers need no new edge.
        driver.offer(driver.chain(List.of(Buf.in(DATA, 1))));
        driver.notifyQueue();
        assertEquals(0, irq.take());
        driver.reg(REG_INTERRUPT_ACK, Virtio.INTERRUPT_USED_BUFFER);
        assertEquals(0, driver.reg(REG_INTERRUPT_STATUS));
        driver.offer(driver.chain(List.of(Buf.in(DATA, 1))));
        driver.notifyQueue();
        assertEquals(1, irq.take());
    }

    /** An {@link AckInKernel} that says what it was asked; {@code grants} false: KVM refused. */
    static final class RecordingAck implements AckInKernel {
        final List<Boolean> asked = new java.util.ArrayList<>();
        private final boolean grants;

        RecordingAck(boolean grants) {
            this.grants = grants;
        }

        @Override
        public boolean absorb(boolean on) {
            asked.add(on);
            return on && grants;
        }
    }

    private VirtioMmioTransport withAck(String name, AckInKernel ack) {
        return new VirtioMmioTransport(name, new RecordingDevice(RING_FEATURES | 0b101, 8), memory, irq, ack,
                RateLimitedLog.to(System.getLogger("test")));
    }

    @Test
    void withTheAckInKvmTheUsedBitReadsPendingAndEveryBatchGetsItsEdge() {
        RecordingAck ack = new RecordingAck(true);
        VirtioMmioTransport t = withAck("acked", ack);
        MockDriver d = new MockDriver(memory, t, 8, 0x1000);
        assertEquals(0, d.reg(REG_INTERRUPT_STATUS));
        d.setUp(Virtio.bit(Virtio.F_VERSION_1));
        assertEquals(List.of(true), ack.asked, "the ACK goes to KVM at DRIVER_OK");
        // KVM completes the driver's ACK: the transport never sees it, so the bit cannot say "nothing new".
        assertEquals(Virtio.INTERRUPT_USED_BUFFER, d.reg(REG_INTERRUPT_STATUS));
        for (int batch = 0; batch < 3; batch++) {
            d.offer(d.chain(List.of(Buf.in(DATA, 1))));
            d.notifyQueue();
            assertEquals(1, irq.take(), "batch " + batch + " without an ACK seen");
        }
        // A config change still needs its own ACK, which KVM does not match: it reaches the transport.
        t.configChanged();
        assertEquals(1, irq.take(), "the config change's own edge");
        assertEquals(Virtio.INTERRUPT_USED_BUFFER | Virtio.INTERRUPT_CONFIG_CHANGE, d.reg(REG_INTERRUPT_STATUS));
        d.reg(REG_INTERRUPT_ACK, Virtio.INTERRUPT_CONFIG_CHANGE);
        assertEquals(Virtio.INTERRUPT_USED_BUFFER, d.reg(REG_INTERRUPT_STATUS));
        d.reg(REG_STATUS, 0);
        assertEquals(List.of(true, false), ack.asked, "a reset takes the ACK back");
        assertEquals(0, d.reg(REG_INTERRUPT_STATUS));
    }

    @Test
    void aRestoredDeviceTakesTheAckBackIntoKvmAndReplaysAnEdge() throws VirtioException {
        VirtioMmioTransport t = withAck("saved", new RecordingAck(true));
        new MockDriver(memory, t, 8, 0x1000).setUp(Virtio.bit(Virtio.F_VERSION_1));
        TransportState saved = t.state();
        RecordingAck ack = new RecordingAck(true);
        VirtioMmioTransport back = withAck("restored", ack);
        back.restore(saved);
        assertEquals(List.of(true), ack.asked);
        irq.take();
        // An edge raised while the interrupt controllers were restored is lost: the used bit always gets one.
        back.replayInterrupt();
        assertEquals(1, irq.take());
        assertEquals(Virtio.INTERRUPT_USED_BUFFER, back.interruptStatus());
    }

    @Test
    void whenKvmRefusesTheAckTheTransportCountsAcksItself() {
        RecordingAck ack = new RecordingAck(false);
        VirtioMmioTransport t = withAck("refused", ack);
        MockDriver d = new MockDriver(memory, t, 8, 0x1000);
        d.setUp(Virtio.bit(Virtio.F_VERSION_1));
        assertEquals(0, d.reg(REG_INTERRUPT_STATUS));
        d.offer(d.chain(List.of(Buf.in(DATA, 1))));
        d.notifyQueue();
        d.offer(d.chain(List.of(Buf.in(DATA, 1))));
        d.notifyQueue();
        assertEquals(1, irq.take(), "one edge until the driver's ACK");
        d.reg(REG_INTERRUPT_ACK, Virtio.INTERRUPT_USED_BUFFER);
        assertEquals(0, d.reg(REG_INTERRUPT_STATUS));
        d.reg(REG_STATUS, 0);
        assertEquals(List.of(true), ack.asked, "nothing to take back");
    }

    @Test
    void noInterruptFlagSuppressesInterrupts() {
        driver.setUp(Virtio.bit(Virtio.F_VERSION_1));
        memory.writeU16(driver.avail, Virtio.AVAIL_F_NO_INTERRUPT);
        driver.offer(driver.chain(List.of(Buf.in(DATA, 1))));
        driver.notifyQueue();
        assertEquals(1, driver.takeUsed().size());
        assertEquals(0, irq.count());
    }

    @Test
    void eventIdxAsksForNotificationsAndHonoursUsedEvent() {
        driver.setUp(RING_FEATURES);
        driver.usedEvent(0);
        driver.offer(driver.chain(List.of(Buf.in(DATA, 1))));
        driver.notifyQueue();
        assertEquals(1, irq.take());
        assertEquals(1, driver.availEvent());   // notify me when entry 1 is offered
        driver.reg(REG_INTERRUPT_ACK, 1);
        // The driver wants an interrupt only after used index 3.
        driver.usedEvent(2);
        driver.offer(driver.chain(List.of(Buf.in(DATA, 1))));
        driver.notifyQueue();
        assertEquals(0, irq.take());
        driver.offer(driver.chain(List.of(Buf.in(DATA, 1))));
        driver.notifyQueue();
        assertEquals(1, irq.take());
        assertEquals(3, driver.availEvent());
    }

    @Test
    void indirectChains() {
        driver.setUp(RING_FEATURES);
        int head = driver.indirectChain(0x8000, List.of(Buf.out(DATA, 16), Buf.in(DATA + 0x40, 4), Buf.in(DATA + 0x80, 1)));
        driver.offer(head);
        driver.notifyQueue();
        assertNull(transport.failure());
        DescriptorChain c = device.chains.getFirst();
        assertEquals(head, c.head());
        assertEquals(3, c.buffers().size());
        assertEquals(16, c.readableBytes());
        assertEquals(5, c.writableBytes());
    }

    @Test
    void indirectWithoutTheFeatureBreaksTheDevice() {
        driver.setUp(Virtio.bit(Virtio.F_VERSION_1));
        driver.offer(driver.indirectChain(0x8000, List.of(Buf.in(DATA, 1))));
        driver.notifyQueue();
        assertBroken("indirect");
    }

    @Test
    void loopBreaksTheDeviceOnceAndResetRecovers() {
        driver.setUp(Virtio.bit(Virtio.F_VERSION_1));
        driver.writeDesc(driver.desc, 0, DATA, 4, Virtio.DESC_F_NEXT, 1);
        driver.writeDesc(driver.desc, 1, DATA, 4, Virtio.DESC_F_NEXT, 0);
        driver.offer(0);
        driver.notifyQueue();
        assertBroken("loop");
        assertEquals(1, irq.take());
        assertEquals(Virtio.INTERRUPT_CONFIG_CHANGE, driver.reg(REG_INTERRUPT_STATUS));
        // A broken device ignores the driver until reset.
        driver.notifyQueue();
        assertEquals(0, driver.takeUsed().size());
        assertEquals(0, device.chains.size());
        driver.reg(REG_STATUS, 0);
        assertEquals(0, driver.reg(REG_STATUS));
        assertNull(transport.failure());
        assertEquals(1, device.resets);
        MockDriver again = new MockDriver(memory, transport, 8, 0x1000);
        memory.fill(0x1000, 0x1000, (byte) 0);
        again.setUp(Virtio.bit(Virtio.F_VERSION_1));
        again.offer(again.chain(List.of(Buf.in(DATA, 2))));
        again.notifyQueue();
        assertEquals(1, again.takeUsed().size());
    }

    @Test
    void buffersOutsideMemoryBreakTheDevice() {
        driver.setUp(Virtio.bit(Virtio.F_VERSION_1));
        driver.offer(driver.chain(List.of(Buf.in(0x3ff00, 0x200))));
        driver.notifyQueue();
        assertBroken("outside guest memory");
    }

    @Test
    void readableAfterWritableBreaksTheDevice() {
        driver.setUp(Virtio.bit(Virtio.F_VERSION_1));
        driver.offer(driver.chain(List.of(Buf.in(DATA, 2), Buf.out(DATA, 2))));
        driver.notifyQueue();
        assertBroken("readable buffer after");
    }

    @Test
    void availIndexRunningAheadBreaksTheDevice() {
        driver.setUp(Virtio.bit(Virtio.F_VERSION_1));
        memory.writeU16(driver.avail + 2, 9);
        driver.notifyQueue();
        assertBroken("ahead");
    }

    @Test
    void ringsOutsideMemoryBreakTheDeviceAtDriverOk() {
        MockDriver far = new MockDriver(memory, transport, 8, 0x3ff80);
        far.setUp(Virtio.bit(Virtio.F_VERSION_1));
        assertBroken("outside guest memory");
    }

    @Test
    void queueSizeMustBeAPowerOfTwo() {
        MockDriver odd = new MockDriver(memory, transport, 6, 0x1000);
        odd.setUp(Virtio.bit(Virtio.F_VERSION_1));
        assertBroken("power of two");
    }

    @Test
    void indicesWrapAroundAt65536() {
        driver.setUp(Virtio.bit(Virtio.F_VERSION_1));
        for (int i = 0; i < 70_000; i++) {
            driver.offer(driver.chain(List.of(Buf.in(DATA, 1))));
            driver.notifyQueue();
            assertEquals(1, driver.takeUsed().size(), "request " + i);
        }
        assertEquals(70_000 & 0xffff, driver.usedIdx());
        assertNull(transport.failure());
    }

    @Test
    void aDriverInAResetLoopLogsAFewLinesAndTheRestAreCounted() {
        List<String> lines = new java.util.ArrayList<>();
        RateLimitedLog warnings = new RateLimitedLog((level, text) -> lines.add(text), 5, java.time.Duration.ofMinutes(1), () -> 0L);
        VirtioMmioTransport looping = new VirtioMmioTransport("vm9 looping", new RecordingDevice(RING_FEATURES, 8), memory, irq, AckInKernel.NEVER, warnings);
        for (int i = 0; i < 50; i++) {
            MockDriver d = new MockDriver(memory, looping, 8, 0x1000);
            memory.fill(0x1000, 0x1000, (byte) 0);
            d.setUp(Virtio.bit(Virtio.F_VERSION_1));
            memory.writeU16(d.avail + 2, 9);
            d.notifyQueue();
            assertNotNull(looping.failure());
        }
        assertEquals(5, lines.size());
        assertTrue(lines.getFirst().startsWith("vm9 looping: driver error"), lines.getFirst());
        assertEquals(45, warnings.suppressed());
    }

    @Test
    void closeReleasesTheDevice() {
        transport.close();
        assertTrue(device.closed);
    }

    private void assertBroken(String why) {
        assertNotEquals(0, driver.reg(REG_STATUS) & Virtio.STATUS_DEVICE_NEEDS_RESET, "status");
        assertNotNull(transport.failure());
        assertTrue(transport.failure().contains(why), transport.failure());
    }
}
