package hg.vmm;

import hg.kvm.sys.EventFd;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A VM whose I/O thread dies stops with the reason instead of running on without disks and network. */
class VmIoFailureTest {

    static final long MEM = 64L << 20;

    VmManager manager;

    @BeforeEach
    void open() {
        GuestPrograms.assumeKvm();
        manager = new VmManager();
    }

    @AfterEach
    void close() {
        if (manager != null) {
            manager.close();
        }
    }

    @Test
    void anErrorOnTheIoThreadStopsTheVmWithTheReason() throws Exception {
        Vm vm = manager.require(manager.create(VmConfig.of(GuestPrograms.elf("uart"), null).withMemory(MEM)));
        VmTest.awaitOutput(vm, "ready\n");
        try (EventFd fd = EventFd.create(true)) {
            vm.ioLoop().add(fd, () -> {
                throw new Error("simulated failure");
            });
            fd.write(1);
            StopReason.InternalError reason = assertInstanceOf(StopReason.InternalError.class, VmTest.awaitStop(vm));
            assertTrue(reason.message().contains("vm" + vm.id() + "-io") && reason.message().contains("simulated failure"),
                    reason.message());
        }
    }
}
