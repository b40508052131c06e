package hg.vmm.internal.virtio;

import hg.kvm.GuestMemory;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;

import static hg.vmm.internal.virtio.Virtio.DESC_F_INDIRECT;
import static hg.vmm.internal.virtio.Virtio.DESC_F_NEXT;
import static hg.vmm.internal.virtio.Virtio.DESC_F_WRITE;

/**
 * The device side of one split virtqueue. Everything the driver wrote is treated as hostile:
 * ring addresses, indices, descriptor addresses and lengths, chain links (loops), indirect
 * tables. Each violation is reported as a {@link VirtioException}; guest memory is touched
 * only through {@link GuestMemory} and slices of it checked when the queue is activated (the
 * rings) or a chain is walked (an indirect table), so no access leaves it.
 *
 * <p>What a driver can make the device hold is bounded by the queue size: a head the device
 * holds cannot be taken again before it is used, the avail index may not run more than the
 * queue size ahead of the used index, a chain has at most queue-size descriptors, and its
 * empty buffers are not kept.
 *
 * <p>Not thread safe: the transport serialises register writes and queue processing.
 */
public final class VirtQueue {

    public static final int MAX_SIZE = 32768;
    private static final int DESC_SIZE = 16;
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final int maxSize;

    // Driver-written configuration (virtio-mmio Queue* registers).
    private int size;
    private boolean ready;
    private long descTable;
    private long availRing;
    private long usedRing;

    // Set when the device is activated.
    private GuestMemory memory;
    private boolean eventIdx;
    private boolean indirect;
    /*
     * The three areas as slices of guest memory, taken once at activation: a chain of 256 descriptors reads a
     * thousand fields, and each read through GuestMemory looked its region up and made a slice of its own.
     */
    private MemorySegment desc;
    private MemorySegment avail;
    private MemorySegment used;

    private int nextAvail;      // u16: the next avail ring index to take
    private int nextUsed;       // u16: the next used ring index to fill
    private int signalledUsed;  // u16: nextUsed when the driver was last interrupted
    private boolean signalledValid;
    /** Heads taken by {@link #pop()} and not yet returned by {@link #addUsed}. */
    private final BitSet held = new BitSet();

    public VirtQueue(int maxSize) {
        if (maxSize <= 0 || maxSize > MAX_SIZE || Integer.bitCount(maxSize) != 1) {
            throw new IllegalArgumentException("queue size must be a power of two up to 32768: " + maxSize);
        }
        this.maxSize = maxSize;
        this.size = maxSize;
    }

    public int maxSize() {
        return maxSize;
    }

    public int size() {
        return size;
    }

    public boolean ready() {
        return ready;
    }

    public long descTable() {
        return descTable;
    }

    public long availRing() {
        return availRing;
    }

    public long usedRing() {
        return usedRing;
    }

    public void setSize(int size) {
        this.size = size;
    }

    public void setReady(boolean ready) {
        this.ready = ready;
    }

    public void setDescTable(long address) {
        descTable = address;
    }

    public void setAvailRing(long address) {
        availRing = address;
    }

    public void setUsedRing(long address) {
        usedRing = address;
    }

    /** Back to the state after a device reset. */
    public void reset() {
        size = maxSize;
        ready = false;
        descTable = availRing = usedRing = 0;
        memory = null;
        desc = avail = used = null;
        eventIdx = indirect = false;
        nextAvail = nextUsed = signalledUsed = 0;
        signalledValid = false;
        held.clear();
    }

    /**
     * Checks the driver's configuration and binds the queue to guest memory with the
     * negotiated ring features. Called when the driver sets DRIVER_OK (for ready queues).
     */
    public void activate(GuestMemory memory, long features) throws VirtioException {
        if (size <= 0 || size > maxSize || Integer.bitCount(size) != 1) {
            throw new VirtioException("queue size " + size + " is not a power of two up to " + maxSize);
        }
        checkArea("descriptor table", descTable, 16L * size, 16, memory);
        checkArea("available ring", availRing, 6L + 2L * size, 2, memory);
        checkArea("used ring", usedRing, 6L + 8L * size, 4, memory);
        this.memory = memory;
        desc = memory.slice(descTable, 16L * size);
        avail = memory.slice(availRing, 6L + 2L * size);
        used = memory.slice(usedRing, 6L + 8L * size);
        this.eventIdx = (features & Virtio.bit(Virtio.F_EVENT_IDX)) != 0;
        this.indirect = (features & Virtio.bit(Virtio.F_INDIRECT_DESC)) != 0;
        nextAvail = nextUsed = signalledUsed = 0;
        signalledValid = false;
        held.clear();
    }

    private static void checkArea(String what, long address, long length, int align, GuestMemory memory)
            throws VirtioException {
        if ((address & (align - 1)) != 0) {
            throw new VirtioException(String.format("%s at 0x%x is not %d-byte aligned", what, address, align));
        }
        if (!memory.contains(address, length)) {
            throw new VirtioException(String.format("%s 0x%x+0x%x is outside guest memory", what, address, length));
        }
    }

    public boolean active() {
        return memory != null;
    }

    /** Whether the driver has made buffers available that were not taken yet. */
    public boolean hasAvailable() throws VirtioException {
        return pendingCount() > 0;
    }

    private int pendingCount() throws VirtioException {
        requireActive();
        int availIdx = u16(avail, 2);
        VarHandle.acquireFence();   // ring entries are read after the index that published them
        // A driver cannot have more buffers out than the queue has entries: measured from the used
        // index, so heads published again while the device holds them cannot pile up.
        int outstanding = (availIdx - nextUsed) & 0xffff;
        if (outstanding > size) {
            throw new VirtioException(String.format("available index %d is %d entries ahead of used index %d (queue size %d)",
                    availIdx, outstanding, nextUsed, size));
        }
        return (availIdx - nextAvail) & 0xffff;
    }

    /** The next available chain, validated; null when the driver has offered none. */
    public DescriptorChain pop() throws VirtioException {
        if (pendingCount() == 0) {
            return null;
        }
        int head = u16(avail, 4 + 2L * (nextAvail % size));
        nextAvail = (nextAvail + 1) & 0xffff;
        if (held.get(head)) {
            throw new VirtioException("chain head " + head + " is offered again while the device still holds it");
        }
        DescriptorChain chain = walk(head);
        held.set(head);
        return chain;
    }

    private DescriptorChain walk(int head) throws VirtioException {
        if (head >= size) {
            throw new VirtioException("chain head " + head + " is outside the queue of " + size);
        }
        List<DescriptorChain.Buffer> buffers = new ArrayList<>();
        MemorySegment table = desc;
        int tableSize = size;
        int index = head;
        int count = 0;
        int descriptors = 0;   // in the whole chain, across an indirect table
        boolean inIndirect = false;
        boolean seenWritable = false;
        long total = 0;
        while (true) {
            if (++count > tableSize) {
                throw new VirtioException("descriptor chain from head " + head + " is longer than its table (a loop?)");
            }
            long d = (long) DESC_SIZE * index;
            long address = table.get(U64, d);
            long length = Integer.toUnsignedLong(table.get(U32, d + 8));
            int flags = u16(table, d + 12);
            int next = u16(table, d + 14);
            if ((flags & DESC_F_INDIRECT) != 0) {
                if (!indirect) {
                    throw new VirtioException("indirect descriptor without VIRTIO_F_INDIRECT_DESC");
                }
                if (inIndirect) {
                    throw new VirtioException("indirect descriptor inside an indirect table");
                }
                if ((flags & DESC_F_NEXT) != 0) {
                    throw new VirtioException("indirect descriptor with the NEXT flag");
                }
                if (length == 0 || length % DESC_SIZE != 0 || length / DESC_SIZE > size) {
                    throw new VirtioException("indirect table of " + length + " bytes (queue size " + size + ")");
                }
                if (!memory.contains(address, length)) {
                    throw new VirtioException(String.format("indirect table 0x%x+0x%x is outside guest memory", address, length));
                }
                table = memory.slice(address, length);
                tableSize = (int) (length / DESC_SIZE);
                index = 0;
                count = 0;
                inIndirect = true;
                continue;
            }
            if (++descriptors > size) {
                throw new VirtioException("descriptor chain from head " + head + " is longer than the queue of " + size);
            }
            if (!memory.contains(address, length)) {
                throw new VirtioException(String.format("buffer 0x%x+0x%x is outside guest memory", address, length));
            }
            boolean writable = (flags & DESC_F_WRITE) != 0;
            if (!writable && seenWritable) {
                throw new VirtioException("device-readable buffer after a device-writable one");
            }
            seenWritable |= writable;
            total += length;
            if (total > 0xffff_ffffL) {
                throw new VirtioException("descriptor chain longer than 4 GiB");
            }
            if (length > 0) {   // an empty buffer carries nothing: not worth holding
                buffers.add(new DescriptorChain.Buffer(address, length, writable));
            }
            if ((flags & DESC_F_NEXT) == 0) {
                return new DescriptorChain(head, buffers);
            }
            if (next >= tableSize) {
                throw new VirtioException("descriptor link " + next + " is outside its table of " + tableSize);
            }
            index = next;
        }
    }

    /** Returns a chain to the driver with {@code written} bytes placed in its writable buffers. */
    public void addUsed(int head, int written) throws VirtioException {
        requireActive();
        if (!held.get(head)) {
            throw new IllegalStateException("the device returns head " + head + ", which it does not hold");
        }
        held.clear(head);
        long slot = 4 + 8L * (nextUsed % size);
        used.set(U32, slot, head);
        used.set(U32, slot + 4, written);
        nextUsed = (nextUsed + 1) & 0xffff;
        VarHandle.releaseFence();   // the entry is visible before the index that publishes it
        used.set(U16, 2, (short) nextUsed);
    }

    /**
     * Re-enables driver notifications after the device drained the queue (with event-idx:
     * asks to be notified at the next index). Returns true when buffers arrived meanwhile,
     * so the caller processes again instead of missing them.
     */
    public boolean enableNotification() throws VirtioException {
        requireActive();
        if (eventIdx) {
            used.set(U16, 4 + 8L * size, (short) nextAvail);
        }
        VarHandle.fullFence();
        return pendingCount() > 0;
    }

    /** Whether the driver wants an interrupt for the used entries added since the last one. */
    public boolean needsInterrupt() throws VirtioException {
        requireActive();
        VarHandle.fullFence();
        if (eventIdx) {
            int old = signalledUsed;
            boolean valid = signalledValid;
            signalledUsed = nextUsed;
            signalledValid = true;
            if (!valid) {
                return true;
            }
            int usedEvent = u16(avail, 4 + 2L * size);
            return ((nextUsed - usedEvent - 1) & 0xffff) < ((nextUsed - old) & 0xffff);
        }
        return (u16(avail, 0) & Virtio.AVAIL_F_NO_INTERRUPT) == 0;
    }

    private void requireActive() throws VirtioException {
        if (memory == null) {
            throw new VirtioException("queue used before it was activated");
        }
    }

    /**
     * Goes on where another server of this queue (vhost-net) stopped: it took avail entries up
     * to {@code nextAvail} and published its used entries up to the used ring's index. Whether
     * the driver was interrupted for them is unknown, so the next check interrupts it.
     */
    public void resumeAt(int nextAvail) throws VirtioException {
        requireActive();
        this.nextAvail = nextAvail & 0xffff;
        this.nextUsed = u16(used, 2);
        signalledValid = false;
        held.clear();   // whatever the other server took, the device here holds nothing
    }

    /**
     * Where the queue stands, for a snapshot. Chains the device holds (receive buffers waiting
     * for a frame) are given back: they are the newest taken, so stepping the avail index back
     * over them lets the restored device take them again, untouched.
     */
    public QueueState state() {
        return new QueueState(size, ready, descTable, availRing, usedRing, (nextAvail - held.cardinality()) & 0xffff,
                nextUsed, signalledUsed, signalledValid);
    }

    /** Takes the driver's configuration of {@code s}; the transport activates the queue after. */
    public void restoreConfiguration(QueueState s) {
        size = s.size();
        ready = s.ready();
        descTable = s.descTable();
        availRing = s.availRing();
        usedRing = s.usedRing();
    }

    /** After activation: goes on at the ring positions of {@code s}. */
    public void restorePosition(QueueState s) throws VirtioException {
        requireActive();
        nextAvail = s.nextAvail();
        nextUsed = s.nextUsed();
        signalledUsed = s.signalledUsed();
        signalledValid = s.signalledValid();
        held.clear();
    }

    /** Where the ring's areas lie in this process's memory, for a server outside Java (vhost-net). */
    public record HostAddresses(long descTable, long availRing, long usedRing) {
    }

    public HostAddresses hostAddresses() throws VirtioException {
        requireActive();
        return new HostAddresses(desc.address(), avail.address(), used.address());
    }

    private static int u16(MemorySegment area, long offset) {
        return Short.toUnsignedInt(area.get(U16, offset));
    }

    /** The next avail index the device will take (for tests and diagnostics). */
    public int nextAvail() {
        return nextAvail;
    }

    public int nextUsed() {
        return nextUsed;
    }

    /** Chains taken from the ring and not yet returned (for tests: at most the queue size). */
    int heldChains() {
        return held.cardinality();
    }
}
