package hg.vmm.internal.virtio.block;

import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The threads that serve disk requests beside the VMs' I/O threads, so a guest with several
 * requests out has them served at once: one set for every disk in the process. A thread that
 * has had nothing to do for a while ends, so idle VMs keep none.
 */
final class DiskThreads {
    /** Enough for a fast disk's queue depth; past the cores, more only help a disk that waits on the device. */
    static final int COUNT = Math.clamp(2L * Runtime.getRuntime().availableProcessors(), 4, 32);
    private static final long IDLE_SECONDS = 10;

    static final Executor SHARED = start();

    private DiskThreads() {
    }

    private static Executor start() {
        AtomicInteger made = new AtomicInteger();
        ThreadPoolExecutor pool = new ThreadPoolExecutor(COUNT, COUNT, IDLE_SECONDS, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(),
                body -> Thread.ofPlatform().name("hg-disk-" + made.incrementAndGet()).daemon().unstarted(body));
        pool.allowCoreThreadTimeOut(true);
        return pool;
    }
}
