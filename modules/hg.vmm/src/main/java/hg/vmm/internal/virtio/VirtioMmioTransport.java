package hg.vmm.internal.virtio;

import hg.vmm.internal.bus.InterruptTrigger;
import hg.vmm.internal.bus.BusDevice;
import hg.kvm.GuestMemory;
import hg.kvm.GuestMemoryException;
import hg.vmm.internal.log.RateLimitedLog;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static hg.vmm.internal.virtio.Virtio.STATUS_DEVICE_NEEDS_RESET;
import static hg.vmm.internal.virtio.Virtio.STATUS_DRIVER;
import static hg.vmm.internal.virtio.Virtio.STATUS_DRIVER_OK;
import static hg.vmm.internal.virtio.Virtio.STATUS_FAILED;
import static hg.vmm.internal.virtio.Virtio.STATUS_FEATURES_OK;

/**
 * The virtio-mmio transport, version 2 (virtio 1.2 section 4.2.2), as one {@link BusDevice}
 * of {@link #SIZE} bytes. Whatever the driver writes, nothing escapes: a driver error marks
 * the device DEVICE_NEEDS_RESET, logs one line and raises a config-change interrupt; the
 * device then does nothing until the driver resets it. Those lines go through the VM's
 * {@link RateLimitedLog}: a driver that breaks the device after every reset is logged a few
 * times, then counted.
 */
public final class VirtioMmioTransport implements BusDevice, AutoCloseable {

    public static final long SIZE = 0x1000;
    public static final int MAGIC = 0x74726976;   // "virt"
    public static final int VERSION = 2;
    public static final int VENDOR_ID = 0x4b564d48; // "HMVK": any value; Linux does not check it
    public static final long QUEUE_NOTIFY_OFFSET = 0x050;

    public static final int REG_MAGIC = 0x000, REG_VERSION = 0x004, REG_DEVICE_ID = 0x008, REG_VENDOR_ID = 0x00c;
    public static final int REG_DEVICE_FEATURES = 0x010, REG_DEVICE_FEATURES_SEL = 0x014;
    public static final int REG_DRIVER_FEATURES = 0x020, REG_DRIVER_FEATURES_SEL = 0x024;
    public static final int REG_QUEUE_SEL = 0x030, REG_QUEUE_NUM_MAX = 0x034, REG_QUEUE_NUM = 0x038;
    public static final int REG_QUEUE_READY = 0x044, REG_QUEUE_NOTIFY = 0x050;
    public static final int REG_INTERRUPT_STATUS = 0x060, REG_INTERRUPT_ACK = 0x064, REG_STATUS = 0x070;
    public static final int REG_QUEUE_DESC_LOW = 0x080, REG_QUEUE_DESC_HIGH = 0x084;
    public static final int REG_QUEUE_DRIVER_LOW = 0x090, REG_QUEUE_DRIVER_HIGH = 0x094;
    public static final int REG_QUEUE_DEVICE_LOW = 0x0a0, REG_QUEUE_DEVICE_HIGH = 0x0a4;
    public static final int REG_SHM_SEL = 0x0ac, REG_SHM_LEN_LOW = 0x0b0, REG_SHM_LEN_HIGH = 0x0b4;
    public static final int REG_SHM_BASE_LOW = 0x0b8, REG_SHM_BASE_HIGH = 0x0bc;
    public static final int REG_CONFIG_GENERATION = 0x0fc, REG_CONFIG = 0x100;

    private static final System.Logger LOG = System.getLogger("hg.vmm.virtio");

    private final String name;
    private final VirtioDevice device;
    private final GuestMemory memory;
    private final InterruptTrigger irq;
    private final AckInKernel ack;
    private final RateLimitedLog warnings;
    private final List<VirtQueue> queues = new ArrayList<>();

    private int status;
    private int deviceFeaturesSel;
    private int driverFeaturesSel;
    private long driverFeatures;
    private int queueSel;
    /** Read and acknowledged without the lock: the guest's interrupt handler must not wait for a flush. */
    private final AtomicInteger interruptStatus = new AtomicInteger();
    /** KVM completes the driver's ACK of the used-buffer bit (from activation to reset): that bit then reads as always pending. */
    private volatile boolean acksInKernel;
    private int configGeneration;
    private boolean active;
    /** Counts activations, so a late report from an earlier one cannot break the current one. Read without the lock. */
    private volatile int activation;
    private String failure;

    /** A transport with warnings of its own (tests, tools). */
    public VirtioMmioTransport(String name, VirtioDevice device, GuestMemory memory, InterruptTrigger irq) {
        this(name, device, memory, irq, AckInKernel.NEVER, RateLimitedLog.to(LOG));
    }

    /**
     * @param ack      completes the driver's ACK of the used-buffer bit in KVM while the device is active
     * @param warnings where driver errors are logged: the VM's, shared by its devices
     */
    public VirtioMmioTransport(String name, VirtioDevice device, GuestMemory memory, InterruptTrigger irq,
                               AckInKernel ack, RateLimitedLog warnings) {
        this.name = name;
        this.warnings = warnings;
        this.device = device;
        this.memory = memory;
        this.irq = irq;
        this.ack = ack;
        for (int max : device.queueMaxSizes()) {
            queues.add(new VirtQueue(max));
        }
    }

    public VirtioDevice device() {
        return device;
    }

    public int queueCount() {
        return queues.size();
    }

    /** The line a Linux guest needs to find this device: {@code virtio_mmio.device=4K@0x...:irq}. */
    public static String cmdlineEntry(long base, int irq) {
        return String.format("virtio_mmio.device=4K@0x%x:%d", base, irq);
    }

    @Override
    public void read(long offset, byte[] data) {
        if (offset == REG_INTERRUPT_STATUS && data.length == 4) {
            int v = interruptStatus();
            for (int i = 0; i < 4; i++) {
                data[i] = (byte) (v >>> (8 * i));
            }
            return;
        }
        synchronized (this) {
            readLocked(offset, data);
        }
    }

    private void readLocked(long offset, byte[] data) {
        Arrays.fill(data, (byte) 0);
        if (offset >= REG_CONFIG) {
            device.readConfig(offset - REG_CONFIG, data);
            return;
        }
        if (data.length != 4 || (offset & 3) != 0) {
            return;   // registers are 32-bit only
        }
        int v = readRegister((int) offset);
        for (int i = 0; i < 4; i++) {
            data[i] = (byte) (v >>> (8 * i));
        }
    }

    private int readRegister(int reg) {
        VirtQueue q = selectedQueue();
        return switch (reg) {
            case REG_MAGIC -> MAGIC;
            case REG_VERSION -> VERSION;
            case REG_DEVICE_ID -> device.deviceType();
            case REG_VENDOR_ID -> VENDOR_ID;
            case REG_DEVICE_FEATURES -> switch (deviceFeaturesSel) {
                case 0 -> (int) device.deviceFeatures();
                case 1 -> (int) (device.deviceFeatures() >>> 32);
                default -> 0;
            };
            case REG_QUEUE_NUM_MAX -> q == null ? 0 : q.maxSize();
            case REG_QUEUE_READY -> q != null && q.ready() ? 1 : 0;
            case REG_INTERRUPT_STATUS -> interruptStatus();
            case REG_STATUS -> status;
            case REG_SHM_LEN_LOW, REG_SHM_LEN_HIGH, REG_SHM_BASE_LOW, REG_SHM_BASE_HIGH -> -1; // no shared memory
            case REG_CONFIG_GENERATION -> configGeneration;
            default -> 0;
        };
    }

    @Override
    public void write(long offset, byte[] data) {
        if (offset == REG_INTERRUPT_ACK && data.length == 4) {
            int v = (data[0] & 0xff) | (data[1] & 0xff) << 8 | (data[2] & 0xff) << 16 | (data[3] & 0xff) << 24;
            interruptStatus.getAndUpdate(s -> s & ~v);
            return;
        }
        synchronized (this) {
            if (offset >= REG_CONFIG) {
                if ((status & STATUS_FAILED) == 0) {
                    device.writeConfig(offset - REG_CONFIG, data);
                }
                return;
            }
            if (data.length != 4 || (offset & 3) != 0) {
                return;
            }
            int v = (data[0] & 0xff) | (data[1] & 0xff) << 8 | (data[2] & 0xff) << 16 | (data[3] & 0xff) << 24;
            if (offset == REG_QUEUE_NOTIFY) {
                processQueue(v);
                return;
            }
            writeRegister((int) offset, v);
        }
    }

    private void writeRegister(int reg, int v) {
        VirtQueue q = selectedQueue();
        // Queue registers may change only while the queue is not live.
        boolean queueWritable = q != null && !q.ready() && (status & STATUS_DRIVER_OK) == 0;
        switch (reg) {
            case REG_DEVICE_FEATURES_SEL -> deviceFeaturesSel = v;
            case REG_DRIVER_FEATURES_SEL -> driverFeaturesSel = v;
            case REG_DRIVER_FEATURES -> {
                if ((status & STATUS_DRIVER) != 0 && (status & STATUS_FEATURES_OK) == 0) {
                    if (driverFeaturesSel == 0) {
                        driverFeatures = (driverFeatures & 0xffff_ffff_0000_0000L) | Integer.toUnsignedLong(v);
                    } else if (driverFeaturesSel == 1) {
                        driverFeatures = (driverFeatures & 0xffff_ffffL) | ((long) v << 32);
                    }
                }
            }
            case REG_QUEUE_SEL -> queueSel = v;
            case REG_QUEUE_NUM -> {
                if (queueWritable) {
                    q.setSize(v);
                }
            }
            case REG_QUEUE_READY -> {
                if (q != null) {
                    if ((v & 1) == 0) {
                        q.setReady(false);
                    } else if (queueWritable) {
                        q.setReady(true);
                    }
                }
            }
            case REG_QUEUE_DESC_LOW -> { if (queueWritable) q.setDescTable(low(q.descTable(), v)); }
            case REG_QUEUE_DESC_HIGH -> { if (queueWritable) q.setDescTable(high(q.descTable(), v)); }
            case REG_QUEUE_DRIVER_LOW -> { if (queueWritable) q.setAvailRing(low(q.availRing(), v)); }
            case REG_QUEUE_DRIVER_HIGH -> { if (queueWritable) q.setAvailRing(high(q.availRing(), v)); }
            case REG_QUEUE_DEVICE_LOW -> { if (queueWritable) q.setUsedRing(low(q.usedRing(), v)); }
            case REG_QUEUE_DEVICE_HIGH -> { if (queueWritable) q.setUsedRing(high(q.usedRing(), v)); }
            case REG_STATUS -> writeStatus(v & 0xff);
            default -> {
                // read-only or unknown: ignored
            }
        }
    }

    /** The queue QueueSel names, or null: the driver may select any 32-bit value. */
    private VirtQueue selectedQueue() {
        return queueSel >= 0 && queueSel < queues.size() ? queues.get(queueSel) : null;
    }

    private static long low(long old, int v) {
        return (old & 0xffff_ffff_0000_0000L) | Integer.toUnsignedLong(v);
    }

    private static long high(long old, int v) {
        return (old & 0xffff_ffffL) | ((long) v << 32);
    }

    private void writeStatus(int v) {
        if (v == 0) {
            reset();
            return;
        }
        if ((status & STATUS_DEVICE_NEEDS_RESET) != 0) {
            // Only a reset brings a broken device back; keep reporting the failure.
            status |= v & STATUS_FAILED;
            return;
        }
        int added = v & ~status;
        if ((added & STATUS_FEATURES_OK) != 0) {
            long offered = device.deviceFeatures();
            boolean acceptable = (driverFeatures & ~offered) == 0
                    && (driverFeatures & Virtio.bit(Virtio.F_VERSION_1)) != 0
                    && (status & STATUS_DRIVER) != 0;
            if (!acceptable) {
                // The driver reads FEATURES_OK back and gives up when it is missing.
                v &= ~STATUS_FEATURES_OK;
                added &= ~STATUS_FEATURES_OK;
            }
        }
        if ((added & STATUS_DRIVER_OK) != 0) {
            if ((v & STATUS_FEATURES_OK) == 0) {
                fail("DRIVER_OK without FEATURES_OK");
                return;
            }
            status |= v;
            activate();
            return;
        }
        // Bits are only ever added, except by a reset.
        status |= v;
    }

    private void activate() {
        activate(null);
    }

    /** @param restored where a restored device's queues stand, or null for a driver that just set DRIVER_OK */
    private void activate(TransportState restored) {
        try {
            List<VirtQueue> live = new ArrayList<>();
            for (int i = 0; i < queues.size(); i++) {
                VirtQueue q = queues.get(i);
                if (q.ready()) {
                    q.activate(memory, driverFeatures);
                    if (restored != null) {
                        // Before the device starts: a kernel data path takes its ring positions from here.
                        q.restorePosition(restored.queues().get(i));
                    }
                }
                live.add(q);
            }
            int run = ++activation;
            device.activate(memory, driverFeatures, live, new VirtioDevice.UsedSignal() {
                @Override
                public void usedBuffers() {
                    signalUsed(run);
                }

                @Override
                public void failed(String why) {
                    failIfStill(run, why);
                }
            });
            active = true;
            acksInKernel = ack.absorb(true);
            if (acksInKernel) {
                // From here the bit reads as pending anyway; kept, it would hide a config change's edge.
                interruptStatus.getAndUpdate(s -> s & ~Virtio.INTERRUPT_USED_BUFFER);
            }
        } catch (VirtioException | GuestMemoryException e) {
            fail(e.getMessage());
        } catch (RuntimeException e) {
            fail("device activation failed: " + e);
        }
    }

    private void reset() {
        if (active) {
            device.reset();
        }
        if (acksInKernel) {
            acksInKernel = ack.absorb(false);
        }
        active = false;
        status = 0;
        driverFeatures = 0;
        deviceFeaturesSel = driverFeaturesSel = queueSel = 0;
        interruptStatus.set(0);
        failure = null;
        for (VirtQueue q : queues) {
            q.reset();
        }
    }

    /**
     * Serves a notification of queue {@code index}: from a QueueNotify write on a vCPU
     * thread, or from the VM's I/O loop when an ioeventfd fired. Never throws.
     */
    public synchronized void processQueue(int index) {
        if (!active || (status & STATUS_DEVICE_NEEDS_RESET) != 0 || index < 0 || index >= queues.size()
                || !queues.get(index).active()) {
            return;
        }
        try {
            device.processQueue(index);
        } catch (VirtioException | GuestMemoryException e) {
            fail("queue " + index + ": " + e.getMessage());
        } catch (RuntimeException e) {
            fail("queue " + index + ": device error " + e);
        }
    }

    /** The device's configuration changed (a disk's new capacity): the driver is told to read it again. */
    public synchronized void configChanged() {
        configGeneration++;
        raise(Virtio.INTERRUPT_CONFIG_CHANGE);
    }

    /**
     * Without the lock: a device's helper threads raise it, and a reset waits for them while it holds
     * the lock. A device returns no buffer of an activation after the reset that ended it.
     */
    private void signalUsed(int run) {
        if (run == activation) {
            raise(Virtio.INTERRUPT_USED_BUFFER);
        }
    }

    /**
     * Sets interrupt bits; an edge goes out only when none was pending (the driver reads them all).
     * Used buffers whose ACK KVM completes are not kept (no ACK would ever clear them): each batch
     * gets its own edge, and the guest's interrupt controller merges those that find one pending.
     */
    private void raise(int bits) {
        boolean usedInKvm = acksInKernel && (bits & Virtio.INTERRUPT_USED_BUFFER) != 0;
        int kept = usedInKvm ? bits & ~Virtio.INTERRUPT_USED_BUFFER : bits;
        int before = interruptStatus.getAndUpdate(s -> s | kept);
        if (usedInKvm || (before == 0 && kept != 0)) {
            irq.trigger();
        }
    }

    private void fail(String why) {
        if ((status & STATUS_DEVICE_NEEDS_RESET) == 0) {
            warnings.log(name + " driver errors", System.Logger.Level.WARNING,
                    name + ": driver error, device needs reset: " + why);
        }
        failure = why;
        status |= STATUS_DEVICE_NEEDS_RESET;
        raise(Virtio.INTERRUPT_CONFIG_CHANGE);
    }

    private synchronized void failIfStill(int run, String why) {
        if (active && run == activation) {
            fail(why);
        }
    }

    /** The transport and its queues, for a snapshot: call with the vCPUs and the I/O thread paused. */
    public synchronized TransportState state() {
        byte[] config = new byte[TransportState.CONFIG_BYTES];
        byte[] one = new byte[1];
        for (int i = 0; i < config.length; i++) {
            device.readConfig(i, one);
            config[i] = one[0];
        }
        List<QueueState> qs = new ArrayList<>();
        for (VirtQueue q : queues) {
            qs.add(q.state());
        }
        String why = failure == null ? "" : failure;
        return new TransportState(device.deviceType(), config, status, deviceFeaturesSel, driverFeaturesSel, driverFeatures,
                queueSel, interruptStatus.get(), configGeneration,
                why.length() > TransportState.FAILURE_CHARS ? why.substring(0, TransportState.FAILURE_CHARS) : why, qs);
    }

    /**
     * Takes {@code s} over on a freshly made transport: the registers, each queue's configuration,
     * then, for a device the driver had set going, its activation and each queue's ring position.
     * A state that does not fit this device (another type, config or queue count) is refused with
     * one line; one whose rings do not fit guest memory leaves the device needing a reset, as a
     * driver that wrote such values would.
     */
    public synchronized void restore(TransportState s) throws VirtioException {
        if (s.queues().size() != queues.size()) {
            throw new VirtioException(name + ": the snapshot has " + s.queues().size() + " queues, the device "
                    + queues.size());
        }
        TransportState now = state();
        if (s.deviceType() != now.deviceType()) {
            throw new VirtioException(name + ": the snapshot has a device of type " + s.deviceType() + " here");
        }
        if (!Arrays.equals(s.config(), now.config())) {
            throw new VirtioException(name + ": the device's configuration differs from the snapshot's");
        }
        deviceFeaturesSel = s.deviceFeaturesSel();
        driverFeaturesSel = s.driverFeaturesSel();
        driverFeatures = s.driverFeatures();
        queueSel = s.queueSel();
        configGeneration = s.configGeneration();
        for (int i = 0; i < queues.size(); i++) {
            queues.get(i).restoreConfiguration(s.queues().get(i));
        }
        status = s.status();
        failure = s.failure().isEmpty() ? null : s.failure();
        // Before activation: what a device raises as it starts again (a vsock's transport reset) adds to it.
        interruptStatus.set(s.interruptStatus());
        if ((status & STATUS_DRIVER_OK) != 0 && (status & STATUS_DEVICE_NEEDS_RESET) == 0) {
            activate(s);
        }
    }

    /**
     * After a restore, once the interrupt controllers have their state back: an edge for what is pending, as one
     * raised while they were being restored was lost with their old state.
     */
    public void replayInterrupt() {
        if (interruptStatus() != 0) {
            irq.trigger();
        }
    }

    /** Before a snapshot: the device brings state kept outside this process (vhost-net's ring positions) back in. */
    public synchronized void beforeSnapshot() {
        if (active) {
            device.beforeSnapshot();
        }
    }

    /** After a snapshot of a VM that goes on: the device may hand its queues out again. */
    public synchronized void afterSnapshot() {
        if (active) {
            device.afterSnapshot();
        }
    }

    /** Why the device stopped working, or null while it works. */
    public synchronized String failure() {
        return failure;
    }

    public synchronized int status() {
        return status;
    }

    /**
     * The pending interrupt bits; the used-buffer bit always while KVM completes its ACK or the
     * device's interrupts bypass us (a driver then finds its rings as they are).
     */
    public int interruptStatus() {
        int v = interruptStatus.get();
        return acksInKernel || device.signalsDirectly() ? v | Virtio.INTERRUPT_USED_BUFFER : v;
    }

    /** Releases the device's host resources. */
    @Override
    public synchronized void close() {
        device.close();
    }
}
