package hg.vmm.internal.cpu;

import hg.kvm.CoalescedRing;

import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Drains every VM's coalesced ring now and then from one thread of the process. A vCPU replays the ring
 * before each exit, but a guest that writes its console and then halts for good (or for long) makes no
 * exit: what it wrote would wait unseen. Linux guests exit right after their console writes (they read the
 * line status), so the flusher mostly finds nothing: it then waits twice as long each time, from
 * {@value #FIRST_MS} ms up to {@value #LONGEST_MS} ms, and starts short again when it found a write or a VM
 * was added. One thread serves every VM (an idle host pays a couple of wake-ups a second for all of them) and
 * sleeps while no VM has a ring.
 */
public final class CoalescedFlusher {
    static final long FIRST_MS = 10;
    static final long LONGEST_MS = 500;

    private record Entry(CoalescedRing ring, CoalescedRing.Writes to) {
    }

    private static final CopyOnWriteArrayList<Entry> RINGS = new CopyOnWriteArrayList<>();
    private static Thread thread;
    /** The next wait; set back to the first by a write found or a VM added. */
    private static final AtomicLong WAIT_MS = new AtomicLong(FIRST_MS);

    private CoalescedFlusher() {
    }

    /**
     * Drains {@code ring} into {@code to} from now on, until the returned handle is closed (which also closes
     * the ring: nothing drains it afterwards, so its page may then be unmapped).
     */
    public static AutoCloseable watch(CoalescedRing ring, CoalescedRing.Writes to) {
        Entry e = new Entry(ring, to);
        RINGS.add(e);
        wake();
        return () -> {
            RINGS.remove(e);
            ring.close();
        };
    }

    private static synchronized void wake() {
        WAIT_MS.set(FIRST_MS);
        if (thread == null) {
            thread = Thread.ofPlatform().daemon().name("hg-coalesced-flusher").start(CoalescedFlusher::run);
        } else {
            LockSupport.unpark(thread);
        }
    }

    private static void run() {
        while (true) {
            if (RINGS.isEmpty()) {
                LockSupport.park();
                continue;
            }
            long wait = WAIT_MS.get();
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(wait));
            int found = 0;
            for (Entry e : RINGS) {
                try {
                    found += e.ring().drain(e.to());
                } catch (RuntimeException ex) {
                    // A device that fails a replayed write fails it on the vCPU too, where the VM learns of it.
                }
            }
            if (found > 0) {
                WAIT_MS.set(FIRST_MS);
            } else {
                WAIT_MS.compareAndSet(wait, Math.min(LONGEST_MS, wait * 2));   // unless a VM was added meanwhile
            }
        }
    }
}
