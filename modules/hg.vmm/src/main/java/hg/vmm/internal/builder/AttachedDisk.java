package hg.vmm.internal.builder;

import hg.vmm.VmDisk;
import hg.vmm.internal.virtio.VirtioMmioTransport;
import hg.vmm.internal.virtio.block.BlockBackend;
import hg.vmm.internal.virtio.block.VirtioBlock;

import java.util.Optional;

/**
 * A virtio-blk device of a running VM: what vm_list says of it, its transport (for a broken
 * driver's reason), the device (for the bytes it moved), where its sectors are.
 */
public record AttachedDisk(VmDisk info, VirtioMmioTransport transport, VirtioBlock device, BlockBackend backend) {
    /** Why the device needs a reset, if the guest's driver broke it. */
    public Optional<String> failure() {
        return Optional.ofNullable(transport.failure());
    }
}
