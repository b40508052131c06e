package hg.vmm.internal.virtio;

import hg.kvm.KvmException;
import hg.kvm.sys.EventFd;
import hg.kvm.VmFd;

/**
 * {@link AckInKernel} as a KVM ioeventfd on one transport's InterruptACK register, matching a
 * 4-byte write of {@link Virtio#INTERRUPT_USED_BUFFER}. Nothing reads the eventfd: the write only
 * needs to complete (KVM saturates the counter long before it could matter). The eventfd is made
 * at the first start, so a VM's create pays nothing for a device its guest never drives.
 */
public final class AckIoeventfd implements AckInKernel, AutoCloseable {
    private static final System.Logger LOG = System.getLogger("hg.vmm.virtio");

    private final VmFd vm;
    private final long address;
    private EventFd fd;
    private boolean on;
    private boolean closed;

    /** For the transport whose registers start at {@code transportBase}. */
    public AckIoeventfd(VmFd vm, long transportBase) {
        this.vm = vm;
        this.address = transportBase + VirtioMmioTransport.REG_INTERRUPT_ACK;
    }

    @Override
    public synchronized boolean absorb(boolean wanted) {
        if (wanted == on || (wanted && closed)) {
            return on;
        }
        try {
            if (wanted) {
                if (fd == null) {
                    fd = EventFd.create(true);
                }
                vm.registerIoeventfd(fd, VmFd.IoSpace.MMIO, address, 4, (long) Virtio.INTERRUPT_USED_BUFFER);
            } else {
                vm.unregisterIoeventfd(fd, VmFd.IoSpace.MMIO, address, 4, (long) Virtio.INTERRUPT_USED_BUFFER);
            }
            on = wanted;
        } catch (KvmException e) {
            // Without it every ACK exits, as it did before: slower, not wrong, so one debug line.
            LOG.log(System.Logger.Level.DEBUG, String.format("InterruptACK at 0x%x %s KVM: %s", address,
                    wanted ? "not completed in" : "left in", e.getMessage()));
        }
        return on;
    }

    /** Takes the ioeventfd out of KVM if it is in, then closes it. */
    @Override
    public synchronized void close() {
        try {
            absorb(false);
        } finally {
            closed = true;
            if (fd != null) {
                fd.close();
            }
        }
    }
}
