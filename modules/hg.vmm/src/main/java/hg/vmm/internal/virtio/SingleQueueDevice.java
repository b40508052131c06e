package hg.vmm.internal.virtio;

import hg.kvm.GuestMemory;

import java.util.List;

/**
 * A device with one queue whose chains are requests served one by one (virtio-blk,
 * virtio-rng): the activation, reset and notification handling they share. A subclass
 * serves a chain and says how many bytes it wrote into it.
 */
public abstract class SingleQueueDevice implements VirtioDevice {
    private GuestMemory memory;
    private VirtQueue queue;
    private UsedSignal signal;

    /** Serves one request; returns the number of bytes written into the chain's writable buffers. */
    protected abstract int serve(DescriptorChain chain) throws VirtioException;

    /** The guest's memory while the device is active. */
    protected final GuestMemory memory() {
        return memory;
    }

    @Override
    public final void activate(GuestMemory memory, long features, List<VirtQueue> queues, UsedSignal signal) {
        this.memory = memory;
        this.queue = queues.isEmpty() ? null : queues.getFirst();
        this.signal = signal;
    }

    @Override
    public final void reset() {
        memory = null;
        queue = null;
        signal = null;
        onReset();
    }

    /** What the device itself drops when the driver starts over (a 9P session's fids); nothing by default. */
    protected void onReset() {
    }

    @Override
    public final void processQueue(int index) throws VirtioException {
        VirtQueue q = queue;
        if (index != 0 || q == null) {
            return;
        }
        boolean used = false;
        do {
            DescriptorChain chain;
            while ((chain = q.pop()) != null) {
                q.addUsed(chain.head(), serve(chain));
                used = true;
            }
        } while (q.enableNotification());
        if (used && q.needsInterrupt()) {
            signal.usedBuffers();
        }
    }
}
