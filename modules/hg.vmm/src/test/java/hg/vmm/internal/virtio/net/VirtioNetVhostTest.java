package hg.vmm.internal.virtio.net;

import hg.vmm.internal.virtio.net.vhost.VhostDataPath;
import hg.vmm.internal.virtio.net.vhost.VhostFeatures;
import hg.vmm.internal.virtio.VirtioMmioTransport;
import hg.vmm.internal.virtio.VirtioException;
import hg.vmm.internal.virtio.Virtio;
import hg.vmm.internal.virtio.VirtQueue;
import hg.kvm.net.Tap;
import org.junit.jupiter.api.Test;

import java.util.List;

import static hg.vmm.internal.virtio.MockDriver.Buf;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The card's side of vhost-net: when the kernel gets the queues, when it gives them back, and the fallback. */
public class VirtioNetVhostTest extends NetCardHarness {

    /** What 6.1's vhost-net reports: ring features, mergeable buffers, VERSION_1, ACCESS_PLATFORM, ... */
    public static final long KERNEL = Virtio.bit(Virtio.F_VERSION_1) | Virtio.bit(Virtio.F_EVENT_IDX)
            | Virtio.bit(Virtio.F_INDIRECT_DESC) | Virtio.bit(VirtioNet.F_MRG_RXBUF) | Virtio.bit(24) | Virtio.bit(26)
            | Virtio.bit(27) | Virtio.bit(33);
    public static final long DRIVER = VirtioNetTest.MRG | VirtioNetTest.OFFLOADS | Virtio.bit(Virtio.F_EVENT_IDX);

    FakeVhost vhost;

    void attach(FakeVhost kernel) {
        FakeNetBackend fake = new FakeNetBackend(true);
        vhost = kernel;
        plug(fake, new VirtioNet(fake, VirtioNetTest.MAC, kernel));
    }

    void sendOneFrame() {
        byte[] f = VirtioNetTest.frame(100, 0, 1);
        memory.write(DATA, f);
        driver.tx.offer(driver.tx.chain(List.of(Buf.out(DATA, f.length))));
        driver.notifyTx();
    }

    @Test
    void theCardOffersOnlyTheRingFeaturesTheKernelServes() {
        attach(new FakeVhost(Virtio.bit(Virtio.F_VERSION_1) | Virtio.bit(Virtio.F_INDIRECT_DESC)));
        long f = driver.rx.deviceFeatures();
        assertEquals(0, f & Virtio.bit(VirtioNet.F_MRG_RXBUF));
        assertEquals(0, f & Virtio.bit(Virtio.F_EVENT_IDX));
        assertNotEquals(0, f & Virtio.bit(Virtio.F_INDIRECT_DESC));
        // Offloads, MAC and status are the TAP's and the config space's: vhost does not decide them.
        for (int bit : new int[] {VirtioNet.F_CSUM, VirtioNet.F_GUEST_CSUM, VirtioNet.F_HOST_TSO4, VirtioNet.F_MAC,
                VirtioNet.F_STATUS}) {
            assertNotEquals(0, f & Virtio.bit(bit), "feature bit " + bit);
        }
    }

    @Test
    void featureArithmetic() {
        long device = new VirtioNet(new FakeNetBackend(true), VirtioNetTest.MAC).deviceFeatures();
        assertEquals(device, VhostFeatures.offered(device, KERNEL), "6.1's vhost-net serves every ring feature we offer");
        assertEquals(Virtio.bit(Virtio.F_VERSION_1) | Virtio.bit(VirtioNet.F_MRG_RXBUF) | Virtio.bit(Virtio.F_EVENT_IDX),
                VhostFeatures.forKernel(DRIVER, KERNEL), "the kernel hears only ring bits it knows");
        assertEquals(0, VhostFeatures.forKernel(DRIVER, KERNEL) & Virtio.bit(27), "the TAP keeps the vnet header");
        assertTrue(VhostFeatures.usable(KERNEL));
        assertFalse(VhostFeatures.usable(KERNEL & ~Virtio.bit(Virtio.F_VERSION_1)));
        assertEquals(12, VhostFeatures.headerSize(Virtio.bit(Virtio.F_VERSION_1)));
        assertEquals(10, VhostFeatures.headerSize(0));
    }

    @Test
    void driverOkHandsTheQueuesToTheKernelAndTheJavaCodeLeavesThemAlone() {
        attach(new FakeVhost(KERNEL));
        assertEquals("vhost-net", net.dataPath());
        assertEquals(0, transport.interruptStatus(), "nothing pending before the driver is up");
        assertNotEquals(0, driver.setUp(DRIVER) & Virtio.STATUS_DRIVER_OK);
        assertEquals(1, vhost.starts);
        assertEquals(DRIVER, vhost.negotiated);
        assertEquals(2, vhost.queues.size());
        assertEquals(Tap.OFFLOAD_CSUM | Tap.OFFLOAD_TSO4 | Tap.OFFLOAD_TSO6, backend.offload, "the TAP's offloads as negotiated");
        sendOneFrame();
        backend.inbound.add(VirtioNetTest.frame(60, 0, 2));
        driver.notifyRx();
        assertEquals(List.of(), backend.sent, "the Java code sent a frame while the kernel owns the queues");
        assertEquals(1, backend.inbound.size(), "the Java code read the TAP while the kernel owns it");
        assertEquals(0, driver.tx.usedIdx());
        assertEquals(Virtio.INTERRUPT_USED_BUFFER, transport.interruptStatus() & Virtio.INTERRUPT_USED_BUFFER,
                "the kernel's interrupts bypass the transport, so the driver must always see the used-buffer bit");
        assertFalse(driver.broken());
    }

    @Test
    void aResetTakesTheQueuesBackAndAReinitialisingDriverGetsTheKernelAgain() {
        attach(new FakeVhost(KERNEL));
        driver.setUp(DRIVER);
        driver.rx.reg(VirtioMmioTransport.REG_STATUS, 0);
        assertEquals(1, vhost.stops);
        assertFalse(vhost.running);
        assertEquals(0, transport.interruptStatus());
        assertEquals(0, backend.offload);
        for (int i = 2; i <= 4; i++) {
            assertNotEquals(0, driver.setUp(DRIVER) & Virtio.STATUS_DRIVER_OK);   // setUp resets first
            assertEquals(i, vhost.starts);
            assertEquals(i - 1, vhost.stops);
            assertTrue(vhost.running);
        }
        assertEquals("vhost-net", net.dataPath());
    }

    @Test
    void aKernelThatRefusesTheSetUpLeavesTheCardOnTheJavaPathForGood() {
        FakeVhost k = new FakeVhost(KERNEL);
        k.failWith = "VHOST_SET_MEM_TABLE failed: ENOMEM (Cannot allocate memory)";
        attach(k);
        assertNotEquals(0, driver.setUp(DRIVER) & Virtio.STATUS_DRIVER_OK);
        assertFalse(driver.broken(), "a host-side failure is not the driver's");
        assertEquals("java", net.dataPath());
        assertTrue(k.closed);
        sendOneFrame();
        assertEquals(1, backend.sent.size(), "the Java path sends");
        assertEquals(0, transport.interruptStatus() & ~Virtio.INTERRUPT_USED_BUFFER);
        driver = new NetDriver(memory, transport, 16, 0x5000, 0x7000);   // a fresh driver's rings
        driver.setUp(DRIVER);
        assertEquals(1, k.starts, "a failed kernel is not asked again");
        sendOneFrame();
        assertEquals(2, backend.sent.size());
    }

    @Test
    void aRingTheKernelGaveUpOnBreaksTheDeviceUntilTheDriverResetsIt() {
        attach(new FakeVhost(KERNEL));
        driver.setUp(DRIVER);
        VhostDataPath.RingError first = vhost.onError;
        int before = irq.count();
        first.failed("vhost-net stopped serving a queue");
        assertTrue(driver.broken());
        assertEquals(before + 1, irq.count(), "a config-change interrupt tells the driver");
        assertNotEquals(0, driver.setUp(DRIVER) & Virtio.STATUS_DRIVER_OK);
        first.failed("late report from the run before the reset");
        assertFalse(driver.broken(), "an earlier run's error must not break the new one");
    }

    @Test
    void closingTheCardClosesTheKernelPath() {
        attach(new FakeVhost(KERNEL));
        driver.setUp(DRIVER);
        transport.close();
        transport = null;
        assertTrue(vhost.closed);
        assertFalse(vhost.running);
        assertTrue(backend.closed);
    }

    @Test
    void theJavaQueueGoesOnWhereTheKernelStopped() throws VirtioException {
        attach(new FakeVhost(KERNEL));
        driver.setUp(DRIVER);
        // The kernel took two chains and published them, as vhost does before it lets go.
        for (int i = 0; i < 3; i++) {
            driver.tx.offer(driver.tx.chain(List.of(Buf.out(DATA, 100))));
        }
        memory.writeU16(driver.tx.used + 2, 2);
        VirtQueue q = vhost.queues.get(VirtioNet.TX);
        q.resumeAt(2);
        assertEquals(2, q.nextAvail());
        assertEquals(2, q.nextUsed());
        assertEquals(2, q.pop().head(), "the next chain is the one the kernel did not take");
    }
}
