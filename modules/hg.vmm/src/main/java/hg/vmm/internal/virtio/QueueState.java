package hg.vmm.internal.virtio;

/**
 * One split queue as a snapshot keeps it: what the driver configured and where the device
 * stands in its rings. Indices are free-running u16 values as in the rings themselves.
 */
public record QueueState(int size, boolean ready, long descTable, long availRing, long usedRing,
                         int nextAvail, int nextUsed, int signalledUsed, boolean signalledValid) {
    public QueueState {
        for (int index : new int[] {nextAvail, nextUsed, signalledUsed}) {
            if ((index & ~0xffff) != 0) {
                throw new IllegalArgumentException("a ring index of " + index + " is not 16 bits");
            }
        }
    }
}
