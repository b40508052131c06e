package hg.vmm.internal.threads;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WorkerPoolTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    /** Runs one body on the pool and returns the thread it ran on, once it ended. */
    private static Thread runOnce(WorkerPool pool, String name, Runnable also) throws InterruptedException {
        AtomicReference<Thread> ran = new AtomicReference<>();
        Started s = pool.start(name, () -> {
            ran.set(Thread.currentThread());
            assertEquals(name, Thread.currentThread().getName());
            also.run();
        });
        assertTrue(s.join(WAIT));
        return ran.get();
    }

    private static void awaitIdle(WorkerPool pool, int n) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (pool.idleThreads() != n && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        assertEquals(n, pool.idleThreads());
    }

    @Test
    void aThreadThatEndedItsBodyRunsTheNextOneUnderItsName() throws InterruptedException {
        try (WorkerPool pool = new WorkerPool(4, Duration.ofMinutes(1))) {
            Thread first = runOnce(pool, "vm1-vcpu0", () -> Thread.currentThread().interrupt());
            awaitIdle(pool, 1);
            Thread second = runOnce(pool, "vm2-io", () -> assertFalse(Thread.currentThread().isInterrupted(),
                    "the last body's interrupt is not the next one's"));
            assertSame(first, second);
            assertTrue(first.isDaemon());
        }
    }

    @Test
    void bodiesAtOnceGetThreadsOfTheirOwnAndAtMostMaxIdleWaitAfterwards() throws InterruptedException {
        try (WorkerPool pool = new WorkerPool(2, Duration.ofMinutes(1))) {
            CountDownLatch go = new CountDownLatch(1);
            List<Started> started = new ArrayList<>();
            List<Thread> ran = java.util.Collections.synchronizedList(new ArrayList<>());
            for (int i = 0; i < 5; i++) {
                started.add(pool.start("busy" + i, () -> {
                    ran.add(Thread.currentThread());
                    try {
                        go.await();
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                }));
            }
            go.countDown();
            for (Started s : started) {
                assertTrue(s.join(WAIT));
            }
            assertEquals(5, ran.stream().distinct().count());
            awaitIdle(pool, 2);
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (ran.stream().filter(Thread::isAlive).count() > 2 && System.nanoTime() < deadline) {
                Thread.sleep(1);
            }
            assertEquals(2, ran.stream().filter(Thread::isAlive).count(), "the rest ended");
        }
    }

    @Test
    void anIdleThreadEndsAfterItsIdleLifeAndTheNextBodyGetsANewOne() throws InterruptedException {
        try (WorkerPool pool = new WorkerPool(4, Duration.ofMillis(50))) {
            Thread first = runOnce(pool, "a", () -> { });
            first.join(WAIT.toMillis());
            assertFalse(first.isAlive());
            assertEquals(0, pool.idleThreads());
            assertNotSame(first, runOnce(pool, "b", () -> { }));
        }
    }

    @Test
    void closingEndsTheIdleThreads() throws InterruptedException {
        WorkerPool pool = new WorkerPool(4, Duration.ofMinutes(1));
        Thread t = runOnce(pool, "a", () -> { });
        awaitIdle(pool, 1);
        pool.close();
        t.join(WAIT.toMillis());
        assertFalse(t.isAlive());
        assertEquals(0, pool.idleThreads());
    }

    @Test
    void aBodyThatThrowsIsDoneAndItsThreadIsNotKept() throws InterruptedException {
        try (WorkerPool pool = new WorkerPool(4, Duration.ofMinutes(1))) {
            AtomicReference<Thread> ran = new AtomicReference<>();
            Thread.UncaughtExceptionHandler quiet = (t, e) -> { };
            Started s = pool.start("failing", () -> {
                ran.set(Thread.currentThread());
                Thread.currentThread().setUncaughtExceptionHandler(quiet);
                throw new IllegalStateException("a body's own failure");
            });
            assertTrue(s.join(WAIT));
            ran.get().join(WAIT.toMillis());
            assertFalse(ran.get().isAlive());
            assertEquals(0, pool.idleThreads());
        }
    }

    @Test
    void onlyTheThreadRunningABodyIsItsCurrentThread() throws InterruptedException {
        try (WorkerPool pool = new WorkerPool(4, Duration.ofMinutes(1))) {
            AtomicReference<Boolean> inside = new AtomicReference<>();
            AtomicReference<Started> self = new AtomicReference<>();
            CountDownLatch handed = new CountDownLatch(1);
            Started s = pool.start("a", () -> {
                try {
                    handed.await();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
                inside.set(self.get().isCurrentThread());
            });
            self.set(s);
            assertFalse(s.isCurrentThread());
            handed.countDown();
            assertTrue(s.join(WAIT));
            assertTrue(inside.get());
            Thread again = runOnce(pool, "b", () -> assertFalse(s.isCurrentThread(), "an ended body has no thread"));
            assertTrue(again.isAlive());
        }
    }
}
