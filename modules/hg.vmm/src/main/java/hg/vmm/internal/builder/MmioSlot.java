package hg.vmm.internal.builder;

import hg.vmm.internal.virtio.VirtioMmioTransport;

/** Where one virtio-mmio device sits: its register page and its interrupt line. */
public record MmioSlot(int index, long base, int irq) {
    /** How the guest kernel learns of the device: {@code virtio_mmio.device=4K@0x...:irq}. */
    public String cmdlineEntry() {
        return VirtioMmioTransport.cmdlineEntry(base, irq);
    }
}
