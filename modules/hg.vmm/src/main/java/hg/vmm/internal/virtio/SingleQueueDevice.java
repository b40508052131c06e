package hg.vmm.internal.virtio;

import hg.kvm.GuestMemory;

import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A device with one queue whose chains are requests, each served on its own (virtio-blk,
 * virtio-rng, 9P): the activation, reset and notification handling they share. A subclass
 * serves a chain and says how many bytes it wrote into it.
 *
 * <p>The notified thread serves the chains one after the other. A device given helpers serves
 * there only what needs no wait for a device ({@link #serveWithoutWaiting}: a read whose data
 * the page cache holds): a chain that would wait goes to a helper, and the notified thread goes
 * on with the next, so a guest with several requests out has the slow ones served at once, up to
 * {@code maxInFlight}. Whoever finishes a chain returns it (out of order, as virtio allows) and
 * takes the next. The ring is touched under one lock; chains are served outside it, so such a
 * device's {@link #serve} runs on several threads at once.
 *
 * <p>Each thread serving chains is an owner until it has raised the interrupt for what it
 * returned. A reset, a snapshot ({@link #beforeSnapshot}) and whatever a subclass brackets with
 * {@link #quiesce}/{@link #resume} wait until there is no owner left: nothing then touches the
 * ring or the back end. Owners never take the transport's lock, so the transport may wait for
 * them while it holds it.
 */
public abstract class SingleQueueDevice implements VirtioDevice {
    /** Null: serial. */
    private final Executor helpers;
    private final int maxInFlight;
    private final ReentrantLock ring = new ReentrantLock();
    private final Condition ownerless = ring.newCondition();

    private volatile GuestMemory memory;
    // Guarded by ring.
    private VirtQueue queue;
    private UsedSignal signal;
    private int inFlight;
    private int owners;
    private int holds;
    /** A chain broke the device: nothing more is taken until the driver resets it. */
    private boolean broken;

    /** Serves chains one at a time on the notified thread. */
    protected SingleQueueDevice() {
        this.helpers = null;
        this.maxInFlight = 1;
    }

    /** Serves up to {@code maxInFlight} chains at once, on the notified thread and {@code helpers}. */
    protected SingleQueueDevice(Executor helpers, int maxInFlight) {
        if (maxInFlight < 1) {
            throw new IllegalArgumentException("at least one request in flight: " + maxInFlight);
        }
        this.helpers = helpers;
        this.maxInFlight = maxInFlight;
    }

    /** What {@link #serveWithoutWaiting} answers for a chain it leaves to a helper. */
    protected static final int WOULD_WAIT = -1;

    /** Serves one request; returns the number of bytes written into the chain's writable buffers. */
    protected abstract int serve(DescriptorChain chain) throws VirtioException;

    /**
     * Serves a request here, as {@link #serve}, if that takes no wait for a device; else answers
     * {@link #WOULD_WAIT}, having changed nothing the driver may rely on (a read may have filled part
     * of its buffers, which the helper fills again), and a helper serves it. Asked only of a device
     * with helpers; by default every request is served here.
     */
    protected int serveWithoutWaiting(DescriptorChain chain) throws VirtioException {
        return serve(chain);
    }

    /** The guest's memory while the device is active. */
    protected final GuestMemory memory() {
        return memory;
    }

    @Override
    public final void activate(GuestMemory memory, long features, List<VirtQueue> queues, UsedSignal signal) {
        ring.lock();
        try {
            this.memory = memory;
            this.queue = queues.isEmpty() ? null : queues.getFirst();
            this.signal = signal;
        } finally {
            ring.unlock();
        }
    }

    @Override
    public final void reset() {
        quiesce();
        ring.lock();
        try {
            memory = null;
            queue = null;
            signal = null;
            broken = false;
            holds--;
        } finally {
            ring.unlock();
        }
        onReset();
    }

    /** What the device itself drops when the driver starts over (a 9P session's fids); nothing by default. */
    protected void onReset() {
    }

    /** Chains in flight are finished first; none is taken until {@link #afterSnapshot}. */
    @Override
    public void beforeSnapshot() {
        quiesce();
    }

    @Override
    public void afterSnapshot() {
        resume();
    }

    /**
     * Stops taking chains and waits until no thread serves one. Each call is matched by one
     * {@link #resume}, but for a device that is closing.
     */
    protected final void quiesce() {
        ring.lock();
        try {
            holds++;
            while (owners > 0) {
                ownerless.awaitUninterruptibly();
            }
        } finally {
            ring.unlock();
        }
    }

    /** Takes chains again, and serves those that arrived meanwhile (their notifications went unserved). */
    protected final void resume() {
        boolean look;
        ring.lock();
        try {
            look = --holds == 0 && queue != null;
        } finally {
            ring.unlock();
        }
        if (look) {
            if (helpers != null) {
                helpers.execute(() -> ownAsHelper(null));
            } else {
                ownAsHelper(null);
            }
        }
    }

    @Override
    public final void processQueue(int index) throws VirtioException {
        if (index != 0) {
            return;
        }
        DescriptorChain first;
        ring.lock();
        try {
            first = takeAsNewOwner();
        } finally {
            ring.unlock();
        }
        if (first != null) {
            own(first, false);
        }
    }

    /** Under the lock: the chain for a thread that owns none yet, counting it as an owner; null when there is none. */
    private DescriptorChain takeAsNewOwner() throws VirtioException {
        DescriptorChain c = take();
        if (c != null) {
            owners++;
        }
        return c;
    }

    /**
     * Under the lock: the next chain for the calling owner, counted in flight. Null when the driver
     * offers none (notifications are on again then), the queue is at its limit (an owner that
     * finishes comes back for more) or the device is held.
     */
    private DescriptorChain take() throws VirtioException {
        if (queue == null || holds > 0 || broken) {
            return null;
        }
        try {
            do {
                if (inFlight >= maxInFlight) {
                    return null;
                }
                DescriptorChain c = queue.pop();
                if (c != null) {
                    inFlight++;
                    return c;
                }
            } while (queue.enableNotification());
            return null;
        } catch (VirtioException | RuntimeException e) {
            broken = true;   // a broken ring: the device needs a reset
            throw e;
        }
    }

    /** Under the lock: a chain that would wait goes to a helper, a new owner that may wait for it. */
    private void hand(DescriptorChain chain) {
        owners++;
        helpers.execute(() -> ownAsHelper(chain));
    }

    /**
     * On a helper (or a resume): a failure goes to the transport through the signal, as no caller is
     * there to take it; never with the ring's lock held, as the transport's lock comes first.
     */
    private void ownAsHelper(DescriptorChain first) {
        UsedSignal s;
        DescriptorChain c = first;
        String why = null;
        ring.lock();
        try {
            s = signal;
            if (c == null) {
                try {
                    c = takeAsNewOwner();
                } catch (VirtioException | RuntimeException e) {
                    why = e.getMessage();
                }
            }
        } finally {
            ring.unlock();
        }
        if (why != null && s != null) {
            s.failed("queue 0: " + why);
        }
        if (c == null) {
            return;
        }
        try {
            own(c, first != null);
        } catch (VirtioException | RuntimeException e) {
            s.failed("queue 0: " + e.getMessage());
        }
    }

    /**
     * Serves {@code first} (waiting for the back end if {@code mayWait}) and whatever chains it can
     * take after it, returning each or handing it to a helper; raises the interrupt once for all it
     * returned, then stops being an owner. Whatever breaks is thrown after that, so nobody waits for
     * this thread meanwhile.
     */
    private void own(DescriptorChain first, boolean mayWait) throws VirtioException {
        VirtQueue q;
        UsedSignal s;
        ring.lock();
        try {
            q = queue;
            s = signal;
        } finally {
            ring.unlock();
        }
        boolean returned = false;
        boolean interrupt = false;
        try {
            boolean wait = mayWait || helpers == null;
            for (DescriptorChain c = first; c != null; wait = helpers == null) {
                int written;
                try {
                    written = wait ? serve(c) : serveWithoutWaiting(c);
                } catch (VirtioException | RuntimeException e) {
                    released();
                    throw e;
                }
                ring.lock();
                try {
                    if (written == WOULD_WAIT && !wait) {
                        hand(c);
                    } else {
                        inFlight--;
                        q.addUsed(c.head(), written);
                        returned = true;
                    }
                    c = take();
                    if (c == null && returned) {
                        interrupt = q.needsInterrupt();
                    }
                } finally {
                    ring.unlock();
                }
            }
            if (interrupt) {
                s.usedBuffers();
            }
        } finally {
            ring.lock();
            try {
                if (--owners == 0) {
                    ownerless.signalAll();
                }
            } finally {
                ring.unlock();
            }
        }
    }

    /** A chain that failed leaves the count in flight; the device takes no more (a reset forgets it). */
    private void released() {
        ring.lock();
        try {
            inFlight--;
            broken = true;
        } finally {
            ring.unlock();
        }
    }
}
