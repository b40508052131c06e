package hg.vmm.internal.virtio.net.vhost;

import hg.vmm.internal.virtio.VirtioMmioTransport;
import hg.vmm.internal.virtio.Virtio;
import hg.kvm.sys.EventFd;
import hg.kvm.VmFd;

/**
 * {@link AckInKernel} as a KVM ioeventfd on one transport's InterruptACK register, matching a
 * 4-byte write of {@link Virtio#INTERRUPT_USED_BUFFER}. Nothing reads the eventfd: the write only
 * needs to complete (KVM saturates the counter long before it could matter).
 */
public final class AckIoeventfd implements AckInKernel, AutoCloseable {
    private final VmFd vm;
    private final long address;
    private final EventFd fd;
    private boolean on;

    /** For the transport whose registers start at {@code transportBase}. */
    public AckIoeventfd(VmFd vm, long transportBase) {
        this.vm = vm;
        this.address = transportBase + VirtioMmioTransport.REG_INTERRUPT_ACK;
        this.fd = EventFd.create(true);
    }

    @Override
    public synchronized void absorb(boolean wanted) {
        if (wanted == on) {
            return;
        }
        if (wanted) {
            vm.registerIoeventfd(fd, VmFd.IoSpace.MMIO, address, 4, (long) Virtio.INTERRUPT_USED_BUFFER);
        } else {
            vm.unregisterIoeventfd(fd, VmFd.IoSpace.MMIO, address, 4, (long) Virtio.INTERRUPT_USED_BUFFER);
        }
        on = wanted;
    }

    /** Takes the ioeventfd out of KVM if it is in, then closes it. */
    @Override
    public synchronized void close() {
        try {
            absorb(false);
        } finally {
            fd.close();
        }
    }
}
