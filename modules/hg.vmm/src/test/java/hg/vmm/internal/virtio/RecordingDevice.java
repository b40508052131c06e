package hg.vmm.internal.virtio;

import hg.kvm.GuestMemory;

import java.util.ArrayList;
import java.util.List;

/** A virtio device for transport and queue tests: fills writable buffers with 0xab and records chains. */
final class RecordingDevice implements VirtioDevice {
    final List<DescriptorChain> chains = new ArrayList<>();
    final long features;
    final int queueSize;
    GuestMemory memory;
    List<VirtQueue> queues;
    UsedSignal signal;
    int resets;
    boolean closed;
    byte[] config = {1, 2, 3, 4, 5, 6, 7, 8};

    RecordingDevice(long features, int queueSize) {
        this.features = features;
        this.queueSize = queueSize;
    }

    @Override
    public int deviceType() {
        return 42;
    }

    @Override
    public long deviceFeatures() {
        return features;
    }

    @Override
    public List<Integer> queueMaxSizes() {
        return List.of(queueSize);
    }

    @Override
    public void readConfig(long offset, byte[] data) {
        for (int i = 0; i < data.length; i++) {
            data[i] = offset + i < config.length ? config[(int) offset + i] : 0;
        }
    }

    @Override
    public void writeConfig(long offset, byte[] data) {
        for (int i = 0; i < data.length && offset + i < config.length; i++) {
            config[(int) offset + i] = data[i];
        }
    }

    @Override
    public void activate(GuestMemory memory, long features, List<VirtQueue> queues, UsedSignal signal) {
        this.memory = memory;
        this.queues = queues;
        this.signal = signal;
    }

    @Override
    public void processQueue(int index) throws VirtioException {
        VirtQueue q = queues.get(index);
        boolean any = false;
        do {
            DescriptorChain c;
            while ((c = q.pop()) != null) {
                chains.add(c);
                long written = 0;
                for (DescriptorChain.Buffer b : c.buffers()) {
                    if (b.writable()) {
                        long n = Math.min(b.length(), 4096);
                        memory.fill(b.address(), n, (byte) 0xab);
                        written += n;
                    }
                }
                q.addUsed(c.head(), (int) written);
                any = true;
            }
        } while (q.enableNotification());
        if (any && q.needsInterrupt()) {
            signal.usedBuffers();
        }
    }

    @Override
    public void reset() {
        resets++;
        memory = null;
    }

    @Override
    public void close() {
        closed = true;
    }
}
