package hg.vmm.internal.io;

import hg.kvm.sys.EventFd;
import org.junit.jupiter.api.Test;

import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Pausing a source hands its fd to someone else (vhost-net); resuming serves what came meanwhile. */
class IoLoopPauseTest {

    @Test
    void aPausedSourceIsNotServedUntilItResumesAndARemovedOneNeverAgain() throws Exception {
        Semaphore served = new Semaphore(0);
        Semaphore lateServed = new Semaphore(0);
        try (IoLoop loop = new IoLoop("test-io"); EventFd fd = EventFd.create(true); EventFd late = EventFd.create(true)) {
            IoLoop.Registration r = loop.add(fd, served::release);
            loop.start();
            fd.write(1);
            assertTrue(served.tryAcquire(5, TimeUnit.SECONDS));
            r.pause();
            r.pause();
            fd.write(1);
            assertFalse(served.tryAcquire(300, TimeUnit.MILLISECONDS), "served while paused");
            r.resume();
            r.resume();
            assertTrue(served.tryAcquire(5, TimeUnit.SECONDS), "what arrived while paused is served on resume");

            IoLoop.Registration added = loop.add(late, lateServed::release);   // while the loop runs
            late.write(1);
            assertTrue(lateServed.tryAcquire(5, TimeUnit.SECONDS));
            added.remove();
            added.remove();
            late.write(1);
            assertFalse(lateServed.tryAcquire(300, TimeUnit.MILLISECONDS), "served after removal");
        }
    }
}
