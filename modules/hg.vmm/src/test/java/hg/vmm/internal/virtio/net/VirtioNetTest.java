package hg.vmm.internal.virtio.net;

import hg.vmm.internal.virtio.VirtioMmioTransport;
import hg.vmm.internal.virtio.Virtio;
import hg.kvm.net.Tap;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static hg.vmm.internal.virtio.MockDriver.Buf;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class VirtioNetTest extends NetCardHarness {

    static final byte[] MAC = {0x02, 0x68, 0x67, 0x00, 0x01, 0x2c};
    static final long BASE = Virtio.bit(Virtio.F_VERSION_1) | Virtio.bit(VirtioNet.F_MAC) | Virtio.bit(VirtioNet.F_STATUS);
    static final long MRG = BASE | Virtio.bit(VirtioNet.F_MRG_RXBUF);
    static final long OFFLOADS = Virtio.bit(VirtioNet.F_CSUM) | Virtio.bit(VirtioNet.F_GUEST_CSUM)
            | Virtio.bit(VirtioNet.F_GUEST_TSO4) | Virtio.bit(VirtioNet.F_GUEST_TSO6)
            | Virtio.bit(VirtioNet.F_HOST_TSO4) | Virtio.bit(VirtioNet.F_HOST_TSO6);

    void attach(boolean offloadsAccepted, long features) {
        FakeNetBackend fake = new FakeNetBackend(offloadsAccepted);
        plug(fake, new VirtioNet(fake, MAC));
        assertNotEquals(0, driver.setUp(features) & Virtio.STATUS_DRIVER_OK);
    }

    /** A frame as the TAP hands it out: a header with {@code flags}, then {@code n} payload bytes. */
    static byte[] frame(int n, int flags, int seed) {
        byte[] f = new byte[VirtioNet.HEADER_SIZE + n];
        f[0] = (byte) flags;
        for (int i = VirtioNet.HEADER_SIZE; i < f.length; i++) {
            f[i] = (byte) (i * 31 + seed);
        }
        return f;
    }

    static int numBuffers(byte[] header) {
        return (header[10] & 0xff) | (header[11] & 0xff) << 8;
    }

    int rxChain(long address, int length) {
        int head = driver.rx.chain(List.of(Buf.in(address, length)));
        driver.rx.offer(head);
        return head;
    }

    @Test
    void announcesMacLinkAndFeatures() {
        attach(true, BASE);
        assertEquals(VirtioNet.DEVICE_ID, driver.rx.reg(VirtioMmioTransport.REG_DEVICE_ID));
        byte[] mac = new byte[6];
        transport.read(VirtioMmioTransport.REG_CONFIG, mac);
        assertArrayEquals(MAC, mac);
        byte[] status = new byte[2];
        transport.read(VirtioMmioTransport.REG_CONFIG + 6, status);
        assertEquals(VirtioNet.S_LINK_UP, status[0]);
        long f = driver.rx.deviceFeatures();
        for (int bit : new int[] {VirtioNet.F_MAC, VirtioNet.F_STATUS, VirtioNet.F_MRG_RXBUF, VirtioNet.F_CSUM,
                VirtioNet.F_GUEST_CSUM, VirtioNet.F_HOST_TSO4, VirtioNet.F_HOST_TSO6, VirtioNet.F_GUEST_TSO4,
                VirtioNet.F_GUEST_TSO6, Virtio.F_VERSION_1}) {
            assertNotEquals(0, f & Virtio.bit(bit), "feature bit " + bit);
        }
        assertEquals(2, transport.queueCount());
    }

    @Test
    void guestOffloadsAreOfferedOnlyWhenTheBackendTakesThem() {
        attach(false, BASE);
        long f = driver.rx.deviceFeatures();
        assertEquals(0, f & Virtio.bit(VirtioNet.F_GUEST_CSUM));
        assertEquals(0, f & Virtio.bit(VirtioNet.F_GUEST_TSO4));
        assertNotEquals(0, f & Virtio.bit(VirtioNet.F_HOST_TSO4), "the guest may still send TSO frames");
        assertEquals(0, backend.offload);
    }

    @Test
    void backendOffloadsFollowWhatTheDriverAccepted() {
        attach(true, MRG | OFFLOADS);
        assertEquals(Tap.OFFLOAD_CSUM | Tap.OFFLOAD_TSO4 | Tap.OFFLOAD_TSO6, backend.offload);
        driver.rx.reg(VirtioMmioTransport.REG_STATUS, 0);
        assertEquals(0, backend.offload, "a reset takes the offloads back");
        assertNotEquals(0, driver.setUp(MRG | Virtio.bit(VirtioNet.F_GUEST_CSUM)) & Virtio.STATUS_DRIVER_OK);
        assertEquals(Tap.OFFLOAD_CSUM, backend.offload);
        assertEquals(0, VirtioNet.offloadFlags(Virtio.bit(VirtioNet.F_GUEST_TSO4)), "TSO without checksum offload is never asked for");
    }

    @Test
    void transmitPassesHeaderAndFrameThroughUnchanged() {
        attach(true, MRG | OFFLOADS);
        byte[] f = frame(3000, 1, 5);
        f[1] = 1;          // GSO TCPv4
        f[4] = (byte) 0xa8; f[5] = 0x05;   // gso_size 1448
        memory.write(DATA, f, 0, VirtioNet.HEADER_SIZE);
        memory.write(DATA + 0x1000, f, VirtioNet.HEADER_SIZE, 1000);
        memory.write(DATA + 0x2000, f, VirtioNet.HEADER_SIZE + 1000, 2000);
        int head = driver.tx.chain(List.of(Buf.out(DATA, VirtioNet.HEADER_SIZE), Buf.out(DATA + 0x1000, 1000),
                Buf.out(DATA + 0x2000, 2000)));
        driver.tx.offer(head);
        driver.notifyTx();
        assertEquals(1, backend.sent.size());
        assertArrayEquals(f, backend.sent.getFirst());
        List<int[]> used = driver.tx.takeUsed();
        assertEquals(1, used.size());
        assertEquals(head, used.getFirst()[0]);
        assertEquals(0, used.getFirst()[1]);
        assertEquals(1, irq.take());
        assertEquals(new VirtioNet.Stats(0, 0, 1, 0, 0, 3000), net.stats(), "the frame counted without its header");
    }

    @Test
    void transmitDropsRuntsAndGiantsButGoesOn() {
        attach(true, MRG);
        driver.tx.offer(driver.tx.chain(List.of(Buf.out(DATA, 5))));
        driver.tx.offer(driver.tx.chain(List.of(Buf.out(DATA, VirtioNet.MAX_FRAME + 1))));
        driver.tx.offer(driver.tx.chain(List.of(Buf.out(DATA, 100))));
        driver.notifyTx();
        assertEquals(3, driver.tx.takeUsed().size());
        assertEquals(1, backend.sent.size());
        assertEquals(100, backend.sent.getFirst().length);
        assertEquals(new VirtioNet.Stats(0, 0, 1, 2, 0, 100 - VirtioNet.HEADER_SIZE), net.stats(), "dropped frames count no bytes");
        assertFalse(driver.broken());
    }

    @Test
    void mergeableReceiveSpreadsAFrameOverBuffersAndCountsThem() {
        attach(true, MRG);
        int a = rxChain(DATA, 1536);
        int b = rxChain(DATA + 0x1000, 1536);
        int c = rxChain(DATA + 0x2000, 1536);
        byte[] f = frame(3000, 0, 9);
        backend.inbound.add(f);
        driver.notifyRx();
        List<int[]> used = driver.rx.takeUsed();
        assertEquals(2, used.size());
        assertEquals(a, used.get(0)[0]);
        assertEquals(1536, used.get(0)[1]);
        assertEquals(b, used.get(1)[0]);
        assertEquals(f.length - 1536, used.get(1)[1]);
        byte[] got = new byte[f.length];
        memory.read(DATA, got, 0, 1536);
        memory.read(DATA + 0x1000, got, 1536, f.length - 1536);
        assertEquals(2, numBuffers(got));
        got[10] = 0;
        assertArrayEquals(f, got);
        assertEquals(1, irq.take());

        backend.inbound.add(frame(60, 0, 1));
        driver.notifyRx();
        used = driver.rx.takeUsed();
        assertEquals(1, used.size());
        assertEquals(c, used.getFirst()[0]);
        assertEquals(1, numBuffers(memory.read(DATA + 0x2000, 12)));
    }

    @Test
    void theJavaPathCountsFrameBytesBothWaysWithoutTheHeader() {
        attach(true, MRG);
        rxChain(DATA, 1536);
        rxChain(DATA + 0x1000, 1536);
        backend.inbound.add(frame(2500, 0, 1));   // spread over both chains
        backend.inbound.add(frame(64, 0, 2));     // waits: no chain left
        driver.notifyRx();
        assertEquals(2500, net.stats().rxBytes(), "a frame counts once, over however many chains");
        for (int n : new int[] {60, 1514}) {
            int head = driver.tx.chain(List.of(Buf.out(DATA + 0x4000, VirtioNet.HEADER_SIZE), Buf.out(DATA + 0x5000, n)));
            driver.tx.offer(head);
        }
        driver.notifyTx();
        assertEquals(2, backend.sent.size());
        assertEquals(new VirtioNet.Stats(1, 0, 2, 0, 2500, 60 + 1514), net.stats());
        rxChain(DATA + 0x2000, 1536);
        driver.notifyRx();
        assertEquals(2500 + 64, net.stats().rxBytes(), "the waiting frame counts once delivered");
    }

    @Test
    void aFrameWaitsUntilTheDriverAddsEnoughBuffers() {
        attach(true, MRG);
        backend.inbound.add(frame(2000, 0, 3));
        backend.inbound.add(frame(100, 0, 4));
        driver.notifyRx();
        assertTrue(driver.rx.takeUsed().isEmpty());
        rxChain(DATA, 1024);
        driver.notifyRx();
        assertTrue(driver.rx.takeUsed().isEmpty(), "half a frame is never handed over");
        assertEquals(2, backend.inbound.size() + 1, "the waiting frame stays with the device");
        rxChain(DATA + 0x1000, 1024);
        rxChain(DATA + 0x2000, 1024);
        driver.notifyRx();
        List<int[]> used = driver.rx.takeUsed();
        assertEquals(3, used.size());
        assertEquals(2, numBuffers(memory.read(DATA, 12)));
        assertEquals(1, numBuffers(memory.read(DATA + 0x2000, 12)));
        assertEquals(new VirtioNet.Stats(2, 0, 0, 0, 2000 + 100, 0), net.stats());
    }

    @Test
    void withoutMergeableBuffersAFrameNeedsOneChainThatHoldsIt() {
        attach(true, BASE);
        rxChain(DATA, 1000);
        backend.inbound.add(frame(1500, 0, 1));
        backend.inbound.add(frame(500, 0, 2));
        driver.notifyRx();
        List<int[]> used = driver.rx.takeUsed();
        assertEquals(1, used.size(), "the big frame is dropped, the small one takes the chain");
        assertEquals(512, used.getFirst()[1]);
        byte[] expected = frame(500, 0, 2);
        expected[10] = 1;
        assertArrayEquals(expected, memory.read(DATA, 512));
        assertEquals(new VirtioNet.Stats(1, 1, 0, 0, 500, 0), net.stats(), "the dropped frame counts no bytes");
    }

    @Test
    void aReceiveChainWithReadableBuffersBreaksTheDeviceOnly() {
        attach(true, MRG);
        driver.rx.offer(driver.rx.chain(List.of(Buf.out(DATA, 64), Buf.in(DATA + 0x100, 2000))));
        backend.inbound.add(frame(100, 0, 1));
        driver.notifyRx();
        assertTrue(driver.broken());
        assertTrue(transport.failure().contains("not all device-writable"), transport.failure());
        driver.notifyTx();   // a broken device ignores the driver until reset
        driver = new NetDriver(memory, transport, 16, 0x1000, 0x3000);
        assertNotEquals(0, driver.setUp(MRG) & Virtio.STATUS_DRIVER_OK);
        rxChain(DATA, 2000);
        backend.inbound.add(frame(100, 0, 2));
        driver.notifyRx();
        assertEquals(1, driver.rx.takeUsed().size());
    }

    @Test
    void closeReleasesTheBackend() {
        attach(true, MRG);
        transport.close();
        transport = null;
        assertTrue(backend.closed);
    }

    static byte[] patched(byte[] f, int n) {
        byte[] c = Arrays.copyOf(f, f.length);
        c[10] = (byte) n;
        c[11] = (byte) (n >>> 8);
        return c;
    }
}
