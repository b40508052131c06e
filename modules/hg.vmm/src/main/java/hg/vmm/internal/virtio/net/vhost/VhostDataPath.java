package hg.vmm.internal.virtio.net.vhost;

import hg.vmm.internal.virtio.net.VirtioNet;
import hg.vmm.internal.virtio.VirtQueue;
import hg.kvm.GuestMemory;

import java.util.List;

/**
 * The host kernel serving a virtio-net card's queues in place of {@link VirtioNet}'s Java code:
 * vhost-net in a VM, a fake in tests. While it runs, the Java side must not touch the queues.
 */
public interface VhostDataPath extends AutoCloseable {

    /** Told when the kernel stopped serving a ring because the driver broke it. */
    @FunctionalInterface
    interface RingError {
        void failed(String why);
    }

    /** The virtio feature bits the kernel serves. */
    long features();

    /**
     * Hands the activated queues to the kernel. When any step fails, everything done so far is
     * undone, the queues are left where the kernel left them (the Java code can go on from
     * there), and a {@link VhostException} says which step failed.
     */
    void start(GuestMemory memory, long negotiated, List<VirtQueue> queues, RingError onError) throws VhostException;

    /** Takes the queues back: the kernel stops, lets go of the TAP, and every per-run fd closes. Idempotent. */
    void stop();

    /** Stops and releases for good (the VM goes away). Idempotent. */
    @Override
    void close();
}
