package hg.vmm.internal.io;

import hg.kvm.sys.EventFd;
import org.junit.jupiter.api.Test;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

/** An I/O thread that dies says so: its VM must not go on with dead devices. */
class IoLoopFailureTest {

    final BlockingQueue<Throwable> failures = new LinkedBlockingQueue<>();

    @Test
    void anErrorInAHandlerIsReported() throws Exception {
        Error boom = new Error("handler broke");
        try (IoLoop loop = new IoLoop("test-io", failures::add); EventFd fd = EventFd.create(true)) {
            loop.add(fd, () -> {
                throw boom;
            });
            loop.start();
            fd.write(1);
            assertSame(boom, failures.poll(5, TimeUnit.SECONDS));
        }
        assertNull(failures.poll(), "reported once");
    }

    @Test
    void aRuntimeExceptionEscapingAHandlerIsReported() throws Exception {
        try (IoLoop loop = new IoLoop("test-io", failures::add); EventFd fd = EventFd.create(true)) {
            loop.add(fd, () -> {
                throw new IllegalStateException("a bug");
            });
            loop.start();
            fd.write(1);
            assertInstanceOf(IllegalStateException.class, failures.poll(5, TimeUnit.SECONDS));
        }
    }

    @Test
    void anOrdinaryCloseReportsNothing() throws Exception {
        try (IoLoop loop = new IoLoop("test-io", failures::add); EventFd fd = EventFd.create(true)) {
            loop.add(fd, () -> { });
            loop.start();
            fd.write(1);
        }
        assertNull(failures.poll(200, TimeUnit.MILLISECONDS));
    }
}
