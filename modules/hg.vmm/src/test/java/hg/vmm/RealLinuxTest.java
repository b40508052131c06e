package hg.vmm;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The real guest vmlinux on this host's /dev/kvm. On a full KVM it must print its banner
 * through the UART. On a PVM (whose emulator stops Linux in early memory setup) it must
 * get into the 64-bit kernel and stop with a reason that says why, never hang or crash.
 */
class RealLinuxTest {

    @Test
    void theGuestKernelRunsOrStopsWithAPlainReason() throws Exception {
        GuestPrograms.assumeKvm();
        String dir = System.getenv("HG_KERNELS");
        Assumptions.assumeTrue(dir != null && !dir.isEmpty(),
                "HG_KERNELS is not set: no real guest kernel to boot (the launcher sets it to the kernel build output)");
        Path vmlinux = Path.of(dir).resolve("guest-vmlinux");
        assertTrue(Files.isRegularFile(vmlinux), vmlinux + " is missing although HG_KERNELS is set");
        try (VmManager manager = new VmManager()) {
            Vm vm = manager.require(manager.create(VmConfig.of(vmlinux, null).withCmdline("earlyprintk=serial,ttyS0")));
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (System.nanoTime() < deadline && !VmTest.text(vm).contains("Linux version")
                    && vm.state() instanceof VmState.Running) {
                Thread.sleep(20);
            }
            if (VmTest.text(vm).contains("Linux version")) {
                return;
            }
            Optional<StopReason> reason = vm.awaitStop(Duration.ofSeconds(1));
            assertTrue(reason.isPresent(), "Linux printed nothing in 60 s and still runs; console: " + VmTest.text(vm));
            String why = reason.get().toString();
            // It ran the kernel's own 64-bit code (rip in the kernel's text mapping) before it stopped.
            assertTrue(why.contains("PVM") && why.contains("rip 0xffffffff8"), why);
        }
    }
}
