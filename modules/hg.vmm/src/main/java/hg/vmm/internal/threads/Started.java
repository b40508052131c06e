package hg.vmm.internal.threads;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** One body handed to a thread: whether it runs on the caller's thread, and waiting for it to end. */
public final class Started {
    private final Runnable body;
    private final CountDownLatch done = new CountDownLatch(1);
    private volatile Thread runner;

    Started(Runnable body) {
        this.body = body;
    }

    /**
     * Runs the body on the calling thread (the one it was given to) and marks it done, whatever it threw. The
     * thread takes the name {@code after} before that, so once joined no thread goes by the VM's name.
     */
    void runHere(String after) {
        runner = Thread.currentThread();
        try {
            body.run();
        } finally {
            runner = null;
            Thread.currentThread().setName(after);
            done.countDown();
        }
    }

    /** Whether the caller is the thread running this body now. */
    public boolean isCurrentThread() {
        return runner == Thread.currentThread();
    }

    /** Waits up to {@code timeout} for the body to end; true when it has. */
    public boolean join(Duration timeout) throws InterruptedException {
        return done.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** Waits for the body to end. */
    public void join() throws InterruptedException {
        done.await();
    }
}
