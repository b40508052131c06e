package hg.vmm.internal.virtio;

import hg.kvm.GuestMemory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;

import static hg.vmm.internal.virtio.MockDriver.Buf;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What one queue lets a driver make the device hold: never more chains than the queue has
 * entries, never a chain longer than the queue, never the empty buffers of a chain.
 */
class VirtQueueBoundsTest {

    static final int SIZE = 8;
    static final long RINGS = 0x1000, DATA = 0x10000, INDIRECT = 0x8000;
    static final long FEATURES = Virtio.bit(Virtio.F_VERSION_1) | Virtio.bit(Virtio.F_INDIRECT_DESC);

    final GuestMemory memory = GuestMemory.allocate(List.of(new GuestMemory.Range(0, 0x40000)));
    // Only its ring helpers are used: the queue under test is driven directly, as a device would.
    final MockDriver driver = new MockDriver(memory, null, SIZE, RINGS);
    final VirtQueue queue = new VirtQueue(SIZE);

    VirtQueueBoundsTest() throws VirtioException {
        queue.setDescTable(driver.desc);
        queue.setAvailRing(driver.avail);
        queue.setUsedRing(driver.used);
        queue.setReady(true);
        queue.activate(memory, FEATURES);
    }

    @AfterEach
    void close() {
        memory.close();
    }

    @Test
    void aHeadTheDeviceStillHoldsCannotBeOfferedAgain() throws VirtioException {
        int head = driver.chain(List.of(Buf.in(DATA, 64)));
        driver.offer(head);
        assertEquals(head, queue.pop().head());
        assertEquals(1, queue.heldChains());
        driver.offer(head);
        VirtioException e = assertThrows(VirtioException.class, queue::pop);
        assertTrue(e.getMessage().contains("still holds"), e.getMessage());
        assertEquals(1, queue.heldChains());
    }

    @Test
    void aUsedHeadMayComeBack() throws VirtioException {
        int head = driver.chain(List.of(Buf.in(DATA, 64)));
        for (int i = 0; i < 3 * SIZE; i++) {
            driver.offer(head);
            assertEquals(head, queue.pop().head());
            queue.addUsed(head, 0);
            assertEquals(0, queue.heldChains());
        }
    }

    @Test
    void anAvailIndexMoreThanTheQueueAheadOfTheUsedIndexIsADriverError() throws VirtioException {
        for (int i = 0; i < SIZE; i++) {
            driver.offer(driver.chain(List.of(Buf.in(DATA + 64L * i, 64))));
        }
        for (int i = 0; i < SIZE; i++) {
            queue.pop();
        }
        // Nothing was used: one more entry is one more than the driver can have outstanding.
        driver.offer(0);
        VirtioException e = assertThrows(VirtioException.class, queue::hasAvailable);
        assertTrue(e.getMessage().contains("ahead"), e.getMessage());
    }

    @Test
    void emptyBuffersAreNotKept() throws VirtioException {
        driver.offer(driver.chain(List.of(Buf.in(DATA, 0), Buf.in(DATA, 4), Buf.in(DATA + 8, 0), Buf.in(DATA + 16, 0))));
        DescriptorChain c = queue.pop();
        assertEquals(List.of(new DescriptorChain.Buffer(DATA, 4, true)), c.buffers());
    }

    @Test
    void aChainLongerThanTheQueueThroughAnIndirectTableIsADriverError() throws VirtioException {
        // SIZE - 1 direct descriptors, then an indirect table of SIZE: each part fits, the whole does not.
        for (int i = 0; i < SIZE; i++) {
            driver.writeDesc(INDIRECT, i, DATA, 4, Virtio.DESC_F_WRITE | (i < SIZE - 1 ? Virtio.DESC_F_NEXT : 0), i + 1);
        }
        for (int i = 0; i < SIZE - 1; i++) {
            driver.writeDesc(driver.desc, i, DATA, 4, Virtio.DESC_F_NEXT, i + 1);
        }
        driver.writeDesc(driver.desc, SIZE - 1, INDIRECT, 16 * SIZE, Virtio.DESC_F_INDIRECT, 0);
        driver.offer(0);
        VirtioException e = assertThrows(VirtioException.class, queue::pop);
        assertTrue(e.getMessage().contains("longer than the queue"), e.getMessage());
    }

    @Test
    void resetAndActivationForgetHeldChains() throws VirtioException {
        driver.offer(driver.chain(List.of(Buf.in(DATA, 64))));
        queue.pop();
        queue.activate(memory, FEATURES);
        assertEquals(0, queue.heldChains());
        queue.reset();
        assertEquals(0, queue.heldChains());
    }
}
