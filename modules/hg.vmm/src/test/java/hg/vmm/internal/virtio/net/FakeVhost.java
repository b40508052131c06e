package hg.vmm.internal.virtio.net;

import hg.vmm.internal.virtio.net.vhost.VhostDataPath;
import hg.vmm.internal.virtio.net.vhost.VhostException;
import hg.vmm.internal.virtio.VirtQueue;
import hg.kvm.GuestMemory;

import java.util.List;

/** A kernel data path that records what the card asks of it, and fails on request. */
final class FakeVhost implements VhostDataPath {
    final long features;
    String failWith;
    int starts, stops;
    boolean running, closed;
    long negotiated;
    List<VirtQueue> queues = List.of();
    RingError onError;

    FakeVhost(long features) {
        this.features = features;
    }

    @Override
    public long features() {
        return features;
    }

    @Override
    public void start(GuestMemory memory, long negotiated, List<VirtQueue> queues, RingError onError)
            throws VhostException {
        starts++;
        if (failWith != null) {
            throw new VhostException(failWith);
        }
        this.negotiated = negotiated;
        this.queues = queues;
        this.onError = onError;
        running = true;
    }

    @Override
    public void stop() {
        if (running) {
            stops++;
            running = false;
        }
    }

    @Override
    public void close() {
        stop();
        closed = true;
    }
}
