package hg.vmm.internal.virtio.net;

import hg.vmm.internal.virtio.net.vhost.VhostDataPath;
import hg.vmm.internal.virtio.net.vhost.VhostException;
import hg.vmm.internal.virtio.DescriptorChain;
import hg.vmm.internal.virtio.VirtioDevice;
import hg.vmm.internal.virtio.VirtioException;
import hg.vmm.internal.virtio.Virtio;
import hg.vmm.internal.virtio.net.vhost.VhostFeatures;
import hg.vmm.internal.virtio.VirtQueue;
import hg.kvm.GuestMemory;
import hg.kvm.net.Tap;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * virtio-net (virtio 1.2 section 5.1) on a {@link NetBackend}: queue 0 receives, queue 1
 * transmits. The 12-byte virtio-net header passes through unchanged in both directions (the
 * TAP speaks the same header), so checksum and segmentation offloads cost the device nothing:
 * the guest's partial checksums and TSO frames go to the host kernel as they are, and the
 * host's come to the guest when it negotiated GUEST_CSUM/GUEST_TSO*.
 *
 * <p>Receive: a frame is read into a host buffer, then copied into as many receive chains as
 * it needs (mergeable buffers, {@code num_buffers} set in the header) or into one chain. When
 * the guest has too few buffers the frame waits, with the chains taken so far, until the
 * driver adds more (a queue-0 notification). Transmit: each chain is written to the backend
 * straight from guest memory (writev, no copy).
 *
 * <p>With a {@link VhostDataPath} the host kernel serves both queues from DRIVER_OK to the next
 * reset instead, and the card offers only the ring features the kernel implements. When the
 * kernel refuses a step of the set-up, the card says so once and keeps the Java data path for
 * the rest of the VM's life.
 */
public final class VirtioNet implements VirtioDevice {

    public static final int DEVICE_ID = 1;
    public static final int QUEUE_SIZE = 256;
    public static final int RX = 0, TX = 1;
    public static final int HEADER_SIZE = Tap.VNET_HDR_SIZE;
    /** Largest frame either way, header included: a 64 KiB GSO packet with Ethernet and VLAN headers. */
    public static final int MAX_FRAME = Tap.MAX_FRAME;

    static final int F_CSUM = 0, F_GUEST_CSUM = 1, F_MAC = 5, F_GUEST_TSO4 = 7, F_GUEST_TSO6 = 8, F_GUEST_ECN = 9;
    public static final int F_HOST_TSO4 = 11, F_HOST_TSO6 = 12, F_HOST_ECN = 13, F_MRG_RXBUF = 15, F_STATUS = 16;
    static final int S_LINK_UP = 1;
    static final int CONFIG_SIZE = 8;   // mac[6], status u16
    static final int NUM_BUFFERS_OFFSET = 10;

    private static final long GUEST_OFFLOADS = Virtio.bit(F_GUEST_CSUM) | Virtio.bit(F_GUEST_TSO4)
            | Virtio.bit(F_GUEST_TSO6) | Virtio.bit(F_GUEST_ECN);

    private static final System.Logger LOG = System.getLogger("hg.vmm.net");

    private final NetBackend backend;
    /** Null when vhost-net is not available or failed once: the Java code serves the queues. */
    private VhostDataPath vhost;
    /** Set while the kernel serves the queues; read without the transport's lock (InterruptStatus). */
    private volatile boolean vhostRunning;
    /** vhost-net was stopped for a snapshot and starts again after it. */
    private boolean pausedForSnapshot;
    private long negotiatedFeatures;
    private final byte[] config = new byte[CONFIG_SIZE];
    private final long features;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment rxFrame = arena.allocate(MAX_FRAME, 64);

    private GuestMemory memory;
    private List<VirtQueue> queues = List.of();
    private UsedSignal signal;
    private boolean mergeable;

    /** Length of the frame in {@link #rxFrame} still to be delivered; 0 when none. */
    private int rxPending;
    /** Receive chains taken from the ring and not used yet, oldest first. */
    private final ArrayDeque<DescriptorChain> rxHeld = new ArrayDeque<>();

    private final AtomicLong rxFrames = new AtomicLong(), rxDropped = new AtomicLong();
    private final AtomicLong txFrames = new AtomicLong(), txDropped = new AtomicLong();
    /** Bytes of the frames delivered and sent on the Java path, Ethernet frame only (as a TAP counts: no vnet header). */
    private final AtomicLong rxBytes = new AtomicLong(), txBytes = new AtomicLong();

    /**
     * @param mac the guest's MAC address (6 bytes)
     */
    public VirtioNet(NetBackend backend, byte[] mac) {
        this(backend, mac, null);
    }

    /**
     * @param vhost the kernel data path to use from DRIVER_OK, or null for the Java one; the
     *              card owns it from here on
     */
    public VirtioNet(NetBackend backend, byte[] mac, VhostDataPath vhost) {
        if (mac.length != 6) {
            throw new IllegalArgumentException("a MAC address has 6 bytes, not " + mac.length);
        }
        this.backend = backend;
        System.arraycopy(mac, 0, config, 0, 6);
        config[6] = S_LINK_UP;
        long f = Virtio.bit(Virtio.F_VERSION_1) | Virtio.bit(Virtio.F_EVENT_IDX) | Virtio.bit(Virtio.F_INDIRECT_DESC)
                | Virtio.bit(F_MAC) | Virtio.bit(F_STATUS) | Virtio.bit(F_MRG_RXBUF)
                // The backend takes the guest's partial checksums and GSO frames as they are.
                | Virtio.bit(F_CSUM) | Virtio.bit(F_HOST_TSO4) | Virtio.bit(F_HOST_TSO6) | Virtio.bit(F_HOST_ECN);
        // The guest may get offloaded frames only if the backend can be told to send them.
        if (backend.setOffload(Tap.OFFLOAD_CSUM | Tap.OFFLOAD_TSO4 | Tap.OFFLOAD_TSO6 | Tap.OFFLOAD_TSO_ECN)) {
            f |= GUEST_OFFLOADS;
        }
        backend.setOffload(0);   // until a driver says what it takes
        this.features = vhost == null ? f : VhostFeatures.offered(f, vhost.features());
        this.vhost = vhost;
    }

    /** Who moves this card's frames: {@code vhost-net} or {@code java}. */
    public synchronized String dataPath() {
        return vhost != null ? "vhost-net" : "java";
    }

    @Override
    public boolean signalsDirectly() {
        return vhostRunning;
    }

    public byte[] mac() {
        return Arrays.copyOf(config, 6);
    }

    @Override
    public int deviceType() {
        return DEVICE_ID;
    }

    @Override
    public long deviceFeatures() {
        return features;
    }

    @Override
    public List<Integer> queueMaxSizes() {
        return List.of(QUEUE_SIZE, QUEUE_SIZE);
    }

    @Override
    public void readConfig(long offset, byte[] data) {
        for (int i = 0; i < data.length; i++) {
            long o = offset + i;
            data[i] = o >= 0 && o < CONFIG_SIZE ? config[(int) o] : 0;
        }
    }

    @Override
    public void writeConfig(long offset, byte[] data) {
        // The MAC is the device's (VIRTIO_NET_F_CTRL_MAC_ADDR is not offered); status is read-only.
    }

    @Override
    public void activate(GuestMemory memory, long negotiated, List<VirtQueue> queues, UsedSignal signal) {
        this.memory = memory;
        this.queues = queues;
        this.signal = signal;
        this.mergeable = (negotiated & Virtio.bit(F_MRG_RXBUF)) != 0;
        this.negotiatedFeatures = negotiated;
        backend.setOffload(offloadFlags(negotiated));
        if (vhost != null) {
            try {
                vhost.start(memory, negotiated, queues, signal::failed);
                vhostRunning = true;
            } catch (VhostException e) {
                LOG.log(System.Logger.Level.WARNING, backend.describe() + ": vhost-net set-up failed (" + e.getMessage()
                        + "); the Java data path serves this card from now on");
                fallBack();
            }
        }
    }

    /** The kernel's ring positions come back into the Java queues: vhost-net stops until {@link #afterSnapshot()}. */
    @Override
    public void beforeSnapshot() {
        if (vhostRunning) {
            vhostRunning = false;
            vhost.stop();
            pausedForSnapshot = true;
        }
    }

    @Override
    public void afterSnapshot() {
        if (pausedForSnapshot) {
            pausedForSnapshot = false;
            try {
                vhost.start(memory, negotiatedFeatures, queues, signal::failed);
                vhostRunning = true;
            } catch (VhostException e) {
                LOG.log(System.Logger.Level.WARNING, backend.describe() + ": vhost-net did not restart after a snapshot ("
                        + e.getMessage() + "); the Java data path serves this card from now on");
                fallBack();
            }
        }
    }

    private synchronized void fallBack() {
        VhostDataPath v = vhost;
        vhost = null;
        v.close();
    }

    /** The TAP offload flags for what the driver accepted: it gets no frame it cannot take. */
    static int offloadFlags(long negotiated) {
        if ((negotiated & Virtio.bit(F_GUEST_CSUM)) == 0) {
            return 0;   // every offload needs the guest to finish checksums
        }
        int flags = Tap.OFFLOAD_CSUM;
        if ((negotiated & Virtio.bit(F_GUEST_TSO4)) != 0) {
            flags |= Tap.OFFLOAD_TSO4;
        }
        if ((negotiated & Virtio.bit(F_GUEST_TSO6)) != 0) {
            flags |= Tap.OFFLOAD_TSO6;
        }
        if ((negotiated & Virtio.bit(F_GUEST_ECN)) != 0 && (flags & (Tap.OFFLOAD_TSO4 | Tap.OFFLOAD_TSO6)) != 0) {
            flags |= Tap.OFFLOAD_TSO_ECN;
        }
        return flags;
    }

    @Override
    public void reset() {
        pausedForSnapshot = false;
        if (vhostRunning) {
            vhostRunning = false;
            vhost.stop();
        }
        memory = null;
        queues = List.of();
        signal = null;
        rxHeld.clear();
        if (rxPending != 0) {
            rxPending = 0;
            rxDropped.incrementAndGet();
        }
        backend.setOffload(0);
    }

    @Override
    public void processQueue(int index) throws VirtioException {
        if (vhostRunning || queues.size() != 2) {   // the kernel owns the rings
            return;
        }
        if (index == RX) {
            receive();
        } else if (index == TX) {
            transmit();
        }
    }

    /** The backend has frames (or the driver added receive buffers): deliver all that fit. */
    private void receive() throws VirtioException {
        VirtQueue q = queues.get(RX);
        if (!q.active()) {
            return;
        }
        boolean used = false;
        while (true) {
            if (rxPending == 0) {
                rxPending = backend.receive(rxFrame);
                if (rxPending == 0) {
                    break;
                }
                if (rxPending < HEADER_SIZE) {
                    rxPending = 0;   // not even a header: nothing a guest could use
                    rxDropped.incrementAndGet();
                    continue;
                }
            }
            int delivered = deliver(q);
            if (delivered < 0) {
                // Too few buffers: ask to be told when the driver adds some, unless it just did.
                if (!q.enableNotification()) {
                    break;
                }
                continue;
            }
            used |= delivered > 0;
        }
        if (used && q.needsInterrupt()) {
            signal.usedBuffers();
        }
    }

    /**
     * Moves the pending frame into receive chains. Returns the chains used (0 when the frame
     * was dropped because it can never fit), or -1 when the ring ran out of chains: the frame
     * then waits. The chains held meanwhile are at most one without mergeable buffers and at
     * most the queue size with them (the queue refuses a head it already handed out).
     */
    private int deliver(VirtQueue q) throws VirtioException {
        if (!takeRoom(q)) {
            return -1;
        }
        int count = 0;
        long room = 0;
        for (DescriptorChain c : rxHeld) {
            if (room >= rxPending) {
                break;
            }
            room += c.writableBytes();
            count++;
        }
        if (room < rxPending || (!mergeable && count != 1)) {
            // One chain (or the whole queue) cannot take the frame: drop it, keep the chains for the next.
            rxPending = 0;
            rxDropped.incrementAndGet();
            return 0;
        }
        rxFrame.set(JAVA_BYTE, NUM_BUFFERS_OFFSET, (byte) count);
        rxFrame.set(JAVA_BYTE, NUM_BUFFERS_OFFSET + 1, (byte) (count >>> 8));
        long offset = 0;
        for (int i = 0; i < count; i++) {
            DescriptorChain c = rxHeld.removeFirst();
            long start = offset;
            for (DescriptorChain.Buffer b : c.buffers()) {
                long n = Math.min(b.length(), rxPending - offset);
                if (n <= 0) {
                    break;
                }
                MemorySegment.copy(rxFrame, offset, memory.slice(b.address(), n), 0, n);
                offset += n;
            }
            q.addUsed(c.head(), (int) (offset - start));
        }
        rxBytes.addAndGet(rxPending - HEADER_SIZE);
        rxPending = 0;
        rxFrames.incrementAndGet();
        return count;
    }

    /**
     * Takes receive chains until those held can take the pending frame, or the frame can never
     * fit: without mergeable buffers one chain is all it may use; with them, the whole queue.
     * False when the ring ran out of chains before either.
     */
    private boolean takeRoom(VirtQueue q) throws VirtioException {
        long room = rxHeld.stream().mapToLong(DescriptorChain::writableBytes).sum();
        int most = mergeable ? q.size() : 1;
        while (room < rxPending && rxHeld.size() < most) {
            DescriptorChain c = q.pop();
            if (c == null) {
                return false;
            }
            if (c.readableBytes() != 0 || c.writableBytes() == 0) {
                throw new VirtioException("receive chain " + c.head() + " is not all device-writable space");
            }
            rxHeld.addLast(c);
            room += c.writableBytes();
        }
        return true;
    }

    private void transmit() throws VirtioException {
        VirtQueue q = queues.get(TX);
        if (!q.active()) {
            return;
        }
        boolean used = false;
        List<MemorySegment> parts = new ArrayList<>();
        do {
            DescriptorChain chain;
            while ((chain = q.pop()) != null) {
                parts.clear();
                long length = 0;
                for (DescriptorChain.Buffer b : chain.buffers()) {
                    if (!b.writable() && b.length() > 0) {
                        parts.add(memory.slice(b.address(), b.length()));
                        length += b.length();
                    }
                }
                // A frame without a whole header or larger than any link takes is dropped, as a NIC would.
                if (length >= HEADER_SIZE + 14 && length <= MAX_FRAME && backend.send(parts)) {
                    txFrames.incrementAndGet();
                    txBytes.addAndGet(length - HEADER_SIZE);
                } else {
                    txDropped.incrementAndGet();
                }
                q.addUsed(chain.head(), 0);
                used = true;
            }
        } while (q.enableNotification());
        if (used && q.needsInterrupt()) {
            signal.usedBuffers();
        }
    }

    /**
     * What the Java data path moved (vhost-net's frames pass it by): frames received, receive
     * drops, frames transmitted, transmit drops, and the bytes of the frames received and
     * transmitted without their virtio-net header.
     */
    public record Stats(long rxFrames, long rxDropped, long txFrames, long txDropped, long rxBytes, long txBytes) {
    }

    public Stats stats() {
        return new Stats(rxFrames.get(), rxDropped.get(), txFrames.get(), txDropped.get(), rxBytes.get(), txBytes.get());
    }

    /** Receive chains the card holds for a waiting frame (for tests: bounded by the queue size). */
    int rxHeldChains() {
        return rxHeld.size();
    }

    /** The buffers of those chains: what they cost the VMM grows with this. */
    long rxHeldBuffers() {
        return rxHeld.stream().mapToLong(c -> c.buffers().size()).sum();
    }

    @Override
    public void close() {
        vhostRunning = false;
        VhostDataPath v;
        synchronized (this) {
            v = vhost;
        }
        if (v != null) {
            v.close();
        }
        backend.close();
        arena.close();
    }
}
