package hg.vmm.internal.cpu;

import hg.kvm.CoalescedRing;

import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Drains every VM's coalesced ring now and then from one thread of the process. A vCPU replays the ring
 * before each exit, but a guest that writes its console and then halts for good (or for long) makes no
 * exit: what it wrote would wait unseen. This bounds that wait at {@value #PERIOD_MS} ms; one thread and
 * one wake-up per period serve every VM, and the thread sleeps while no VM has a ring.
 */
public final class CoalescedFlusher {
    static final long PERIOD_MS = 10;

    private record Entry(CoalescedRing ring, CoalescedRing.Writes to) {
    }

    private static final CopyOnWriteArrayList<Entry> RINGS = new CopyOnWriteArrayList<>();
    private static Thread thread;

    private CoalescedFlusher() {
    }

    /**
     * Drains {@code ring} into {@code to} every period until the returned handle is closed (which also closes
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
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(PERIOD_MS));
            for (Entry e : RINGS) {
                try {
                    e.ring().drain(e.to());
                } catch (RuntimeException ex) {
                    // A device that fails a replayed write fails it on the vCPU too, where the VM learns of it.
                }
            }
        }
    }
}
