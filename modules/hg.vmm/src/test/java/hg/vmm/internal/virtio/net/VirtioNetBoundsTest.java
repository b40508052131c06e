package hg.vmm.internal.virtio.net;

import hg.vmm.internal.virtio.Virtio;
import org.junit.jupiter.api.Test;

import java.util.List;

import static hg.vmm.internal.virtio.MockDriver.Buf;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What a receive queue lets a driver make the card hold while a frame waits for buffers. */
class VirtioNetBoundsTest extends NetCardHarness {

    static final long PLAIN = Virtio.bit(Virtio.F_VERSION_1);
    static final long MRG = PLAIN | Virtio.bit(VirtioNet.F_MRG_RXBUF);
    static final int QUEUE = 16;

    void attach(long features) {
        FakeNetBackend fake = new FakeNetBackend(true);
        plug(fake, new VirtioNet(fake, new byte[6]));
        assertNotEquals(0, driver.setUp(features) & Virtio.STATUS_DRIVER_OK);
    }

    @Test
    void aHeadOfferedAgainWhileTheCardHoldsItBreaksTheCardAndHoldsNothingMore() {
        attach(MRG);
        backend.inbound.add(new byte[9000]);
        int head = driver.rx.chain(List.of(Buf.in(DATA, 1)));
        for (int round = 0; round < 200 && !driver.broken(); round++) {
            for (int i = 0; i < QUEUE; i++) {
                driver.rx.offer(head);
            }
            driver.notifyRx();
            assertTrue(net.rxHeldChains() <= QUEUE, "held " + net.rxHeldChains());
        }
        assertTrue(driver.broken());
        assertTrue(transport.failure().contains("still holds"), transport.failure());
    }

    @Test
    void withoutMergeableBuffersAtMostOneChainWaits() {
        attach(PLAIN);
        for (int i = 0; i < QUEUE; i++) {
            driver.rx.offer(driver.rx.chain(List.of(Buf.in(DATA + 0x1000L * i, 100))));
        }
        for (int i = 0; i < 20; i++) {
            backend.inbound.add(new byte[1000]);
        }
        driver.notifyRx();
        assertEquals(1, net.rxHeldChains());
        assertEquals(new VirtioNet.Stats(0, 20, 0, 0, 0, 0), net.stats(), "every frame too big for the chain is dropped");
        assertFalse(driver.broken());
    }

    @Test
    void aFrameTheWholeQueueCannotHoldIsDroppedAndTheChainsServeTheNext() {
        attach(MRG);
        for (int i = 0; i < QUEUE; i++) {
            driver.rx.offer(driver.rx.chain(List.of(Buf.in(DATA + 0x1000L * i, 16))));
        }
        backend.inbound.add(new byte[1000]);
        backend.inbound.add(new byte[100]);
        driver.notifyRx();
        assertEquals(new VirtioNet.Stats(1, 1, 0, 0, 100 - VirtioNet.HEADER_SIZE, 0), net.stats());
        assertEquals(7, driver.rx.takeUsed().size(), "100 bytes in 16-byte chains");
        assertEquals(QUEUE - 7, net.rxHeldChains());
        assertFalse(driver.broken());
    }

    @Test
    void emptyReceiveBuffersAreNotHeld() {
        attach(MRG);
        backend.inbound.add(new byte[9000]);
        driver.rx.offer(driver.rx.chain(List.of(Buf.in(DATA, 0), Buf.in(DATA, 1), Buf.in(DATA, 0), Buf.in(DATA, 0))));
        driver.notifyRx();
        assertEquals(1, net.rxHeldChains());
        assertEquals(1, net.rxHeldBuffers());
    }
}
