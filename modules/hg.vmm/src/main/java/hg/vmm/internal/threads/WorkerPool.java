package hg.vmm.internal.threads;

import java.time.Duration;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Platform threads kept after a VM's body ended, for the next VM's: starting a thread (its stack,
 * guard pages, the JVM's per-thread set-up) costs a create more CPU than all its KVM calls but
 * the VM's own. A thread that waited {@code idleLife} for work ends; at most {@code maxIdle} wait.
 *
 * <p>Threads are started by the thread that asked for one and inherit its confinement (seccomp,
 * Landlock), so a pool serves one confinement: one per {@link hg.vmm.VmManager}. What a body
 * leaves on its thread (name, interrupt status) is reset before the next body; the vCPU code
 * clears its own signal state when it binds a thread.
 */
public final class WorkerPool implements ThreadStarter, AutoCloseable {
    private static final String IDLE_NAME = "hg-idle";

    private final int maxIdle;
    private final long idleLifeNanos;
    /** Most recently idle first: its stack and caches are the warmest. */
    private final ConcurrentLinkedDeque<Worker> idle = new ConcurrentLinkedDeque<>();
    private final AtomicInteger idleCount = new AtomicInteger();
    private volatile boolean closed;

    public WorkerPool(int maxIdle, Duration idleLife) {
        this.maxIdle = maxIdle;
        this.idleLifeNanos = idleLife.toNanos();
    }

    @Override
    public Started start(String name, Runnable body) {
        Started started = new Started(body);
        for (Worker w; (w = idle.pollFirst()) != null; ) {
            idleCount.decrementAndGet();
            if (w.offer(name, started)) {
                return started;
            }
        }
        Worker w = new Worker();
        w.offer(name, started);
        Thread.ofPlatform().name(name).daemon().start(w);
        return started;
    }

    /** How many threads wait for work now. */
    public int idleThreads() {
        return idleCount.get();
    }

    /** Idle threads end now; threads still running a body end when it does. */
    @Override
    public void close() {
        closed = true;
        for (Worker w; (w = idle.pollFirst()) != null; ) {
            idleCount.decrementAndGet();
            w.retire();
        }
    }

    private final class Worker implements Runnable {
        private String name;
        private Started next;
        private boolean retired;

        /** Hands this worker a body; false when it has retired meanwhile. */
        synchronized boolean offer(String name, Started body) {
            if (retired) {
                return false;
            }
            this.name = name;
            this.next = body;
            notifyAll();
            return true;
        }

        synchronized void retire() {
            retired = true;
            notifyAll();
        }

        @Override
        public void run() {
            for (Started body; (body = take()) != null; ) {
                Thread self = Thread.currentThread();
                self.setName(name);
                body.runHere(IDLE_NAME);
                Thread.interrupted();
                if (closed || idleCount.incrementAndGet() > maxIdle) {
                    idleCount.decrementAndGet();
                    return;
                }
                idle.addFirst(this);
                if (closed && idle.remove(this)) {
                    idleCount.decrementAndGet();
                    return;
                }
            }
        }

        /** The next body, or null when none came within the idle life (or the pool closed): the thread ends. */
        private synchronized Started take() {
            long deadline = System.nanoTime() + idleLifeNanos;
            while (next == null && !retired) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    retired = true;
                    if (idle.remove(this)) {
                        idleCount.decrementAndGet();
                    }
                    return null;
                }
                try {
                    wait(left / 1_000_000, (int) (left % 1_000_000));
                } catch (InterruptedException e) {
                    // only a stray interrupt: the pool hands work by offer and ends by retire
                }
            }
            Started body = next;
            next = null;
            return body;
        }
    }
}
