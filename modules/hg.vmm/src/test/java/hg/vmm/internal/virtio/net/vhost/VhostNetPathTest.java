package hg.vmm.internal.virtio.net.vhost;

import hg.vmm.internal.virtio.net.VirtioNetVhostTest;
import hg.vmm.internal.virtio.VirtioException;
import hg.vmm.internal.io.IoLoop;
import hg.vmm.internal.virtio.VirtQueue;
import hg.kvm.sys.EventFd;
import hg.kvm.GuestMemory;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The fallback decision and the undo of a failed set-up, without a vhost-net device. */
class VhostNetPathTest {

    @Test
    void aHostWithoutTheDeviceOrWithSomethingElseThereGetsTheJavaPath() {
        VhostNetPath.Unavailable missing = assertInstanceOf(VhostNetPath.Unavailable.class,
                VhostNetPath.probe("/nonexistent/vhost-net"));
        assertTrue(missing.reason().contains("No such file or directory"), missing.reason());
        VhostNetPath.Unavailable wrong = assertInstanceOf(VhostNetPath.Unavailable.class, VhostNetPath.probe("/dev/null"));
        assertTrue(wrong.reason().contains("VHOST_GET_FEATURES"), wrong.reason());
    }

    @Test
    void aSetUpThatFailsGivesTheQueuesBackToTheJavaPathAndLeavesNothingOpen() throws Exception {
        Semaphore served = new Semaphore(0);
        try (GuestMemory memory = GuestMemory.allocate(List.of(new GuestMemory.Range(0, 0x100000)));
             IoLoop io = new IoLoop("test-io"); EventFd kick = EventFd.create(true); EventFd call = EventFd.create(true)) {
            IoLoop.Registration watch = io.add(kick, served::release);
            io.start();
            // /dev/null opens but refuses every vhost ioctl: the first step (SET_OWNER) fails. The
            // TAP is never reached before that step, so the path is made without one.
            VhostNetPath path = new VhostNetPath("/dev/null", null, VirtioNetVhostTest.KERNEL, io);
            path.bind(new VhostNetPath.Wiring(List.of(kick, kick), call, List.of(watch)));
            List<VirtQueue> queues = List.of(activeQueue(memory, 0x1000), activeQueue(memory, 0x3000));
            VhostException e = assertThrows(VhostException.class,
                    () -> path.start(memory, VirtioNetVhostTest.DRIVER, queues, why -> { }));
            assertTrue(e.getMessage().contains("VHOST_SET_OWNER"), e.getMessage());
            assertFalse(path.running());
            kick.write(1);
            assertTrue(served.tryAcquire(5, TimeUnit.SECONDS), "the Java path no longer hears the queue's notifications");
            path.close();
            path.close();
        }
    }

    @Test
    void queuesTheDriverDidNotMakeReadyStayWithJava() throws Exception {
        try (GuestMemory memory = GuestMemory.allocate(List.of(new GuestMemory.Range(0, 0x100000)));
             IoLoop io = new IoLoop("test-io"); EventFd kick = EventFd.create(true); EventFd call = EventFd.create(true)) {
            VhostNetPath path = new VhostNetPath("/nonexistent/vhost-net", null, VirtioNetVhostTest.KERNEL, io);
            List<VirtQueue> queues = List.of(activeQueue(memory, 0x1000), new VirtQueue(16));
            assertThrows(VhostException.class, () -> path.start(memory, VirtioNetVhostTest.DRIVER, queues, why -> { }),
                    "not wired yet");
            path.bind(new VhostNetPath.Wiring(List.of(kick, kick), call, List.of()));
            VhostException e = assertThrows(VhostException.class,
                    () -> path.start(memory, VirtioNetVhostTest.DRIVER, queues, why -> { }));
            assertEquals("queue 1 is not ready", e.getMessage());
        }
    }

    private static VirtQueue activeQueue(GuestMemory memory, long at) throws VirtioException {
        VirtQueue q = new VirtQueue(16);
        q.setSize(16);
        q.setDescTable(at);
        q.setAvailRing(at + 0x100);
        q.setUsedRing(at + 0x200);
        q.setReady(true);
        q.activate(memory, VirtioNetVhostTest.DRIVER);
        return q;
    }
}
