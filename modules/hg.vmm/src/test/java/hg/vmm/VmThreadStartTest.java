package hg.vmm;

import hg.kvm.Kvm;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A VM whose vCPU threads cannot all start is taken down whole: no started vCPU outlives the memory it runs on. */
class VmThreadStartTest {
    static final long MEM = 64L << 20;

    @BeforeEach
    void setUp() {
        GuestPrograms.assumeKvm();
    }

    @Test
    void aThreadThatCannotStartStopsTheStartedOnesBeforeTheVmIsReleased() throws Exception {
        Path uart = GuestPrograms.elf("uart");
        try (Kvm kvm = Kvm.open()) {
            var cpuid = kvm.supportedCpuid();
            Vm.create(kvm, cpuid, 90, VmConfig.of(uart, null).withMemory(MEM)).destroy();   // lazily opened fds into the baseline
            long fds = VmLifecycleTest.openFds();
            AtomicInteger started = new AtomicInteger();
            hg.vmm.internal.threads.ThreadStarter thirdFails = (name, body) -> {
                if (started.incrementAndGet() == 4) {   // the I/O thread, vCPUs 0 and 1, then not vCPU 2
                    throw new OutOfMemoryError("unable to create native thread: possibly out of memory or process/resource limits reached");
                }
                return hg.vmm.internal.threads.ThreadStarter.NEW_THREADS.start(name, body);
            };
            VmException e = assertThrows(VmException.class,
                    () -> Vm.create(kvm, cpuid, 91, VmConfig.of(uart, null).withMemory(MEM).withVcpus(4), thirdFails));
            assertTrue(e.getMessage().startsWith("cannot start vm 91's threads: unable to create native thread"), e.getMessage());
            // The two vCPUs that did start (one runs the guest, one waits for a SIPI inside KVM_RUN) were
            // joined before the VM's memory and fds went: none is left the moment create gives up.
            assertEquals(0, Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t.getName().startsWith("vm91-") && t.isAlive()).count());
            assertEquals(fds, VmLifecycleTest.openFds());
        }
    }
}
