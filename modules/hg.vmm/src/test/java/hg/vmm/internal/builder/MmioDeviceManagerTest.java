package hg.vmm.internal.builder;

import hg.vmm.VmException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class MmioDeviceManagerTest {

    @Test
    void slotsFollowEachOtherWithTheirLinesAndAnnouncements() {
        MmioDeviceManager m = new MmioDeviceManager();
        assertEquals(new MmioSlot(0, 0xd000_0000L, 5), m.allocate("virtio-blk vda"));
        assertEquals(new MmioSlot(1, 0xd000_1000L, 6), m.allocate("virtio-rng"));
        assertEquals(java.util.List.of("virtio_mmio.device=4K@0xd0000000:5", "virtio_mmio.device=4K@0xd0001000:6"),
                m.cmdlineEntries());
    }

    @Test
    void theLastIoapicPinIsTheLimit() {
        MmioDeviceManager m = new MmioDeviceManager();
        MmioSlot last = null;
        for (int i = 0; i < MmioDeviceManager.MAX_DEVICES; i++) {
            last = m.allocate("disk " + i);
        }
        assertEquals(23, last.irq());
        assertEquals(19, MmioDeviceManager.MAX_DEVICES);
        VmException e = assertThrows(VmException.class, () -> m.allocate("virtio-net"));
        assertEquals("a VM has at most 19 virtio devices (interrupt lines 5 to 23); no line is left for its virtio-net",
                e.getMessage());
    }

    @Test
    void disksAreNamedAsLinuxNamesThem() {
        assertEquals("vda", VmBuilder.diskName(0));
        assertEquals("vdb", VmBuilder.diskName(1));
        assertEquals("vdz", VmBuilder.diskName(25));
        assertEquals("vdaa", VmBuilder.diskName(26));
        assertEquals("vdab", VmBuilder.diskName(27));
    }
}
