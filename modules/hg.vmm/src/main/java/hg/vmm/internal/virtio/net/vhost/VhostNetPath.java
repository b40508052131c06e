package hg.vmm.internal.virtio.net.vhost;

import hg.vmm.internal.virtio.VirtioException;
import hg.vmm.internal.io.IoLoop;
import hg.vmm.internal.log.RateLimitedLog;
import hg.vmm.internal.virtio.VirtQueue;
import hg.kvm.sys.EventFd;
import hg.kvm.GuestMemory;
import hg.kvm.GuestMemoryException;
import hg.kvm.KvmException;
import hg.kvm.net.Tap;
import hg.kvm.net.VhostNet;

import java.util.ArrayList;
import java.util.List;

/**
 * vhost-net serving one card's two queues. Each run (DRIVER_OK to reset) gets a fresh
 * /dev/vhost-net fd, so a reset leaves nothing behind in the kernel and a re-initialising
 * driver starts clean.
 *
 * <p>The kicks are the card's KVM ioeventfds on QueueNotify (datamatch on the queue index), the
 * same ones the Java path reads: the I/O loop stops watching them, and the TAP, while vhost runs.
 * The call is the card's irqfd: vhost interrupts the guest without passing through this process,
 * and the transport reports the used-buffer bit as pending while it does (virtio-mmio drivers
 * read InterruptStatus before looking at the rings); the driver's acknowledgement of that bit is
 * completed in KVM, as for every active device ({@link hg.vmm.internal.virtio.AckInKernel}).
 */
public final class VhostNetPath implements VhostDataPath {

    private static final System.Logger LOG = System.getLogger("hg.vmm.net");

    /**
     * What the Java path shares with vhost: the notification eventfds, the interrupt, and what the
     * I/O loop watches.
     */
    public record Wiring(List<EventFd> kicks, EventFd call, List<IoLoop.Registration> javaSources) {
        public Wiring {
            kicks = List.copyOf(kicks);
            javaSources = List.copyOf(javaSources);
        }
    }

    /** What opening /dev/vhost-net at VM creation found. */
    public sealed interface Probe permits Available, Unavailable {
    }

    public record Available(long features) implements Probe {
    }

    public record Unavailable(String reason) implements Probe {
    }

    private final String device;
    private final Tap tap;
    private final long features;
    private final IoLoop io;
    private final RateLimitedLog warnings;
    private Wiring wiring;

    // One run's resources; null while stopped.
    private VhostNet vhost;
    private EventFd err;
    private IoLoop.Registration errWatch;
    private List<VirtQueue> running = List.of();
    private boolean closed;

    public VhostNetPath(String device, Tap tap, long features, IoLoop io) {
        this(device, tap, features, io, RateLimitedLog.to(LOG));
    }

    /** @param warnings where failures to stop a run are logged: the VM's, as each driver reset stops one */
    public VhostNetPath(String device, Tap tap, long features, IoLoop io, RateLimitedLog warnings) {
        this.warnings = warnings;
        this.device = device;
        this.tap = tap;
        this.features = features;
        this.io = io;
    }

    /**
     * Opens {@code device} once to learn whether vhost-net can serve cards here and with which
     * features; the fd is closed again (each run opens its own).
     */
    public static Probe probe(String device) {
        return switch (VhostNet.open(device)) {
            case VhostNet.Unavailable u -> new Unavailable(u.reason());
            case VhostNet.Opened(VhostNet v) -> {
                try (v) {
                    long f = v.features();
                    yield VhostFeatures.usable(f) ? new Available(f)
                            : new Unavailable(device + " serves no virtio 1.x rings (features 0x" + Long.toHexString(f) + ")");
                } catch (KvmException e) {
                    yield new Unavailable(device + ": " + e.getMessage());
                }
            }
        };
    }

    /** Connects the card's eventfds and I/O loop sources; before the first {@link #start}. */
    public synchronized void bind(Wiring w) {
        this.wiring = w;
    }

    @Override
    public long features() {
        return features;
    }

    @Override
    public synchronized void start(GuestMemory memory, long negotiated, List<VirtQueue> queues, RingError onError)
            throws VhostException {
        if (closed) {
            throw new VhostException("the card is closed");
        }
        if (wiring == null || wiring.kicks().size() != queues.size()) {
            throw new VhostException("the card's notifications are not wired to vhost-net");
        }
        stop();
        for (int i = 0; i < queues.size(); i++) {
            if (!queues.get(i).active()) {
                throw new VhostException("queue " + i + " is not ready");
            }
        }
        VhostNet v = switch (VhostNet.open(device)) {
            case VhostNet.Unavailable u -> throw new VhostException(u.reason());
            case VhostNet.Opened(VhostNet opened) -> opened;
        };
        vhost = v;
        running = queues;
        List<Integer> attached = new ArrayList<>();
        try {
            v.setOwner();
            v.setFeatures(VhostFeatures.forKernel(negotiated, features));
            tap.setVnetHeaderSize(VhostFeatures.headerSize(negotiated));
            v.setMemTable(memory);
            err = EventFd.create(true);
            EventFd errFd = err;
            errWatch = io.add(errFd, () -> onError.failed("vhost-net stopped serving a queue: the driver's ring is broken"));
            for (IoLoop.Registration r : wiring.javaSources()) {
                r.pause();
            }
            for (int i = 0; i < queues.size(); i++) {
                VirtQueue q = queues.get(i);
                VirtQueue.HostAddresses a = q.hostAddresses();
                v.setVringNum(i, q.size());
                v.setVringAddr(i, a.descTable(), a.usedRing(), a.availRing());
                v.setVringBase(i, q.nextAvail());
                v.setVringKick(i, wiring.kicks().get(i));
                v.setVringCall(i, wiring.call());
                v.setVringErr(i, err);
            }
            for (int i = 0; i < queues.size(); i++) {
                v.setBackend(i, tap.fd());
                attached.add(i);
            }
        } catch (KvmException | GuestMemoryException | VirtioException | IllegalStateException e) {
            release(attached, true);
            throw new VhostException(e.getMessage(), e);
        }
    }

    @Override
    public synchronized void stop() {
        if (vhost == null) {
            return;
        }
        List<Integer> all = new ArrayList<>();
        for (int i = 0; i < running.size(); i++) {
            all.add(i);
        }
        release(all, !closed);
    }

    /**
     * Stops the rings in {@code attached}, reads back where each stopped (so the Java code can go
     * on from there), then closes this run's fds and lets the I/O loop watch the Java sources again.
     */
    private void release(List<Integer> attached, boolean resumeJava) {
        VhostNet v = vhost;
        for (int i : attached) {
            try {
                v.detachBackend(i);
                int base = v.vringBase(i);
                running.get(i).resumeAt(base);
            } catch (KvmException | VirtioException | GuestMemoryException e) {
                warnings.log("vhost-net stops", System.Logger.Level.WARNING, "vhost-net: stopping queue " + i + ": " + e.getMessage());
            }
        }
        if (errWatch != null) {
            errWatch.remove();
            errWatch = null;
        }
        v.close();
        vhost = null;
        if (err != null) {
            err.close();
            err = null;
        }
        running = List.of();
        if (resumeJava && wiring != null) {
            for (IoLoop.Registration r : wiring.javaSources()) {
                try {
                    r.resume();
                } catch (RuntimeException e) {
                    warnings.log("vhost-net stops", System.Logger.Level.WARNING,
                            "vhost-net: the Java data path cannot watch its fds again: " + e);
                }
            }
        }
    }

    /** Whether a run is under way (for tests and listings). */
    public synchronized boolean running() {
        return vhost != null;
    }

    @Override
    public synchronized void close() {
        closed = true;
        stop();
    }
}
