package hg.vmm.internal.virtio;

import hg.kvm.GuestMemory;

import java.util.List;

/**
 * The driver side of a virtio-mmio device for tests: it programs the transport's registers
 * the way Linux's virtio_mmio driver does and lays out a split queue (descriptor table,
 * available and used rings) in guest memory.
 */
public final class MockDriver {

    /** A buffer the driver offers: guest address, length, whether the device may write it. */
    public record Buf(long address, int length, boolean writable) {
        public static Buf out(long address, int length) {
            return new Buf(address, length, false);
        }

        public static Buf in(long address, int length) {
            return new Buf(address, length, true);
        }
    }

    public final GuestMemory memory;
    public final VirtioMmioTransport transport;
    public final int size;
    public final long desc;
    public final long avail;
    public final long used;
    private int nextDesc;
    private int availIdx;
    private int usedSeen;

    public MockDriver(GuestMemory memory, VirtioMmioTransport transport, int size, long rings) {
        this.memory = memory;
        this.transport = transport;
        this.size = size;
        this.desc = rings;
        this.avail = rings + 16L * size;
        this.used = (avail + 6 + 2L * size + 3) & ~3L;
    }

    public int reg(int offset) {
        byte[] b = new byte[4];
        transport.read(offset, b);
        return (b[0] & 0xff) | (b[1] & 0xff) << 8 | (b[2] & 0xff) << 16 | (b[3] & 0xff) << 24;
    }

    public void reg(int offset, int value) {
        transport.write(offset, new byte[] {(byte) value, (byte) (value >>> 8), (byte) (value >>> 16), (byte) (value >>> 24)});
    }

    public long deviceFeatures() {
        reg(VirtioMmioTransport.REG_DEVICE_FEATURES_SEL, 0);
        long low = Integer.toUnsignedLong(reg(VirtioMmioTransport.REG_DEVICE_FEATURES));
        reg(VirtioMmioTransport.REG_DEVICE_FEATURES_SEL, 1);
        long high = Integer.toUnsignedLong(reg(VirtioMmioTransport.REG_DEVICE_FEATURES));
        return high << 32 | low;
    }

    /** The whole handshake of a device with one queue; returns the status read back at the end. */
    public int setUp(long features) {
        return setUp(List.of(this), features);
    }

    /** The whole handshake with VIRTIO_F_VERSION_1 alone, {@code queues} giving each queue's driver in queue order. */
    public static int setUp(List<MockDriver> queues) {
        return setUp(queues, Virtio.bit(Virtio.F_VERSION_1));
    }

    /**
     * The whole handshake as Linux's virtio_mmio driver does it, {@code queues} giving each queue's driver in
     * queue order; returns the status read back at the end (without FEATURES_OK when the device refused them).
     */
    public static int setUp(List<MockDriver> queues, long features) {
        MockDriver r = queues.getFirst();
        r.reg(VirtioMmioTransport.REG_STATUS, 0);
        r.reg(VirtioMmioTransport.REG_STATUS, Virtio.STATUS_ACKNOWLEDGE);
        r.reg(VirtioMmioTransport.REG_STATUS, Virtio.STATUS_ACKNOWLEDGE | Virtio.STATUS_DRIVER);
        r.reg(VirtioMmioTransport.REG_DRIVER_FEATURES_SEL, 0);
        r.reg(VirtioMmioTransport.REG_DRIVER_FEATURES, (int) features);
        r.reg(VirtioMmioTransport.REG_DRIVER_FEATURES_SEL, 1);
        r.reg(VirtioMmioTransport.REG_DRIVER_FEATURES, (int) (features >>> 32));
        r.reg(VirtioMmioTransport.REG_STATUS, Virtio.STATUS_ACKNOWLEDGE | Virtio.STATUS_DRIVER | Virtio.STATUS_FEATURES_OK);
        if ((r.reg(VirtioMmioTransport.REG_STATUS) & Virtio.STATUS_FEATURES_OK) == 0) {
            return r.reg(VirtioMmioTransport.REG_STATUS);
        }
        for (int i = 0; i < queues.size(); i++) {
            MockDriver q = queues.get(i);
            r.reg(VirtioMmioTransport.REG_QUEUE_SEL, i);
            r.reg(VirtioMmioTransport.REG_QUEUE_NUM, q.size);
            r.reg(VirtioMmioTransport.REG_QUEUE_DESC_LOW, (int) q.desc);
            r.reg(VirtioMmioTransport.REG_QUEUE_DESC_HIGH, (int) (q.desc >>> 32));
            r.reg(VirtioMmioTransport.REG_QUEUE_DRIVER_LOW, (int) q.avail);
            r.reg(VirtioMmioTransport.REG_QUEUE_DRIVER_HIGH, (int) (q.avail >>> 32));
            r.reg(VirtioMmioTransport.REG_QUEUE_DEVICE_LOW, (int) q.used);
            r.reg(VirtioMmioTransport.REG_QUEUE_DEVICE_HIGH, (int) (q.used >>> 32));
            r.reg(VirtioMmioTransport.REG_QUEUE_READY, 1);
        }
        r.reg(VirtioMmioTransport.REG_STATUS, Virtio.STATUS_ACKNOWLEDGE | Virtio.STATUS_DRIVER
                | Virtio.STATUS_FEATURES_OK | Virtio.STATUS_DRIVER_OK);
        return r.reg(VirtioMmioTransport.REG_STATUS);
    }

    public void writeDesc(long table, int index, long address, int length, int flags, int next) {
        long d = table + 16L * index;
        memory.writeU64(d, address);
        memory.writeU32(d + 8, length);
        memory.writeU16(d + 12, flags);
        memory.writeU16(d + 14, next);
    }

    /** Puts a chain into the descriptor table (in consecutive slots) and returns its head. */
    public int chain(List<Buf> bufs) {
        int head = nextDesc;
        for (int i = 0; i < bufs.size(); i++) {
            Buf b = bufs.get(i);
            int index = (head + i) % size;
            boolean last = i == bufs.size() - 1;
            writeDesc(desc, index, b.address(), b.length(),
                    (b.writable() ? Virtio.DESC_F_WRITE : 0) | (last ? 0 : Virtio.DESC_F_NEXT), (index + 1) % size);
        }
        nextDesc = (head + bufs.size()) % size;
        return head;
    }

    /** Puts a chain in an indirect table at {@code table} and one descriptor pointing at it. */
    public int indirectChain(long table, List<Buf> bufs) {
        for (int i = 0; i < bufs.size(); i++) {
            Buf b = bufs.get(i);
            boolean last = i == bufs.size() - 1;
            writeDesc(table, i, b.address(), b.length(),
                    (b.writable() ? Virtio.DESC_F_WRITE : 0) | (last ? 0 : Virtio.DESC_F_NEXT), i + 1);
        }
        int head = nextDesc;
        writeDesc(desc, head, table, 16 * bufs.size(), Virtio.DESC_F_INDIRECT, 0);
        nextDesc = (head + 1) % size;
        return head;
    }

    /** Makes a head available (without notifying). */
    public void offer(int head) {
        memory.writeU16(avail + 4 + 2L * (availIdx % size), head);
        availIdx = (availIdx + 1) & 0xffff;
        memory.writeU16(avail + 2, availIdx);
    }

    public void notifyQueue() {
        reg(VirtioMmioTransport.REG_QUEUE_NOTIFY, 0);
    }

    public int usedIdx() {
        return memory.readU16(used + 2);
    }

    /** Waits, up to 10 s, until the device has published used entries up to {@code index} (served on other threads). */
    public void awaitUsed(int index) {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (usedIdx() != index) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the used index is " + usedIdx() + ", not " + index);
            }
            Thread.onSpinWait();
        }
    }

    /** The used entries not seen yet, as {id, len} pairs. */
    public List<int[]> takeUsed() {
        int idx = usedIdx();
        java.util.ArrayList<int[]> out = new java.util.ArrayList<>();
        while (usedSeen != idx) {
            long e = used + 4 + 8L * (usedSeen % size);
            out.add(new int[] {memory.readU32(e), memory.readU32(e + 4)});
            usedSeen = (usedSeen + 1) & 0xffff;
        }
        return out;
    }

    /** Where the driver asks to be interrupted next (event-idx). */
    public void usedEvent(int index) {
        memory.writeU16(avail + 4 + 2L * size, index);
    }

    public int availEvent() {
        return memory.readU16(used + 4 + 8L * size);
    }
}
