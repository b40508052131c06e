package hg.vmm.internal.virtio.net;

import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * Where a virtio-net device's frames go and come from: a TAP on the host, or a queue in tests.
 * Every frame starts with the 12-byte virtio-net header (virtio 1.x layout).
 */
public interface NetBackend extends AutoCloseable {

    /** Reads one waiting frame into {@code into}; returns its length, 0 when none waits. */
    int receive(MemorySegment into);

    /** Sends one frame gathered from {@code parts} in order; false when it was dropped (bad header, link down). */
    boolean send(List<MemorySegment> parts);

    /**
     * Which offloaded frames the device can take from {@link #receive} ({@code hg.kvm.net.Tap.OFFLOAD_*}
     * bits; 0: only complete frames with their checksums). False when the backend refuses.
     */
    boolean setOffload(int flags);

    /** An fd that polls readable when a frame waits, or -1 when there is none. */
    int fd();

    /** What the device is attached to, for listings: e.g. "tap hgvm3 on hgbr0". */
    String describe();

    @Override
    void close();
}
