package hg.vmm;

import hg.kvm.Kvm;
import hg.kvm.KvmCap;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.OptionalLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * VmManager.create goes through the memory admission: guest memory is mapped lazily, so without it several
 * VMs of most of the host's memory all start. The uart guest waits for a line, so its VM runs until told.
 */
class VmManagerAdmissionTest {
    static final long MiB = 1L << 20, GiB = 1L << 30;
    Path uart;

    @BeforeEach
    void guest() throws Exception {
        GuestPrograms.assumeKvm();
        uart = GuestPrograms.elf("uart");
    }

    @Test
    void twoVmsOfHalfThisHostsMemoryDoNotBothStart() {
        long total = MemoryAdmission.forThisProcess().hostMemory().orElseThrow();
        long half = total / 2 / MiB * MiB;
        try (VmManager manager = new VmManager()) {
            int first = manager.create(VmConfig.of(uart, null).withMemory(half));
            VmException e = assertThrows(VmException.class, () -> manager.create(VmConfig.of(uart, null).withMemory(half)));
            assertTrue(e.getMessage().startsWith("not enough memory for this VM: "), e.getMessage());
            assertEquals(1, manager.list().size());
            manager.destroy(first);
            manager.destroy(manager.create(VmConfig.of(uart, null).withMemory(half)));
        }
    }

    @Test
    void aModelled4GiBHostRunsOne3GiBVmAtATime() throws Exception {
        MemoryAdmission fourGiB = new MemoryAdmission(() -> OptionalLong.of(4 * GiB), 512 * MiB);
        try (VmManager manager = new VmManager(fourGiB, false)) {
            int first = manager.create(VmConfig.of(uart, null).withMemory(3 * GiB));
            MemoryRefusedException e = assertThrows(MemoryRefusedException.class,
                    () -> manager.create(VmConfig.of(uart, null).withMemory(3 * GiB)));
            assertEquals(3 * GiB, e.promised());
            // A VM that ends by itself (the uart guest exits after one line) gives its memory back, though listed.
            Vm vm = manager.require(first);
            VmTest.awaitOutput(vm, "ready\n");
            vm.console().input("bye\n".getBytes(StandardCharsets.US_ASCII));
            assertTrue(vm.awaitStop(Duration.ofSeconds(20)).isPresent(), "the guest exits after a line");
            assertEquals(0, fourGiB.promised());
            int second = manager.create(VmConfig.of(uart, null).withMemory(3 * GiB));
            assertEquals(3 * GiB, fourGiB.promised());
            manager.destroy(second);
            assertEquals(0, fourGiB.promised(), "a destroyed VM's memory is returned");
        }
        try (VmManager overcommitting = new VmManager(fourGiB, true)) {
            overcommitting.create(VmConfig.of(uart, null).withMemory(3 * GiB));
            overcommitting.create(VmConfig.of(uart, null).withMemory(3 * GiB));
            assertEquals(2, overcommitting.list().size());
        }
        assertEquals(0, fourGiB.promised(), "closing the manager returns everything");
    }

    @Test
    void maxVcpusIsKvmsLimitWithinVmConfigs() {
        int kvmMax;
        try (Kvm kvm = Kvm.open()) {
            kvmMax = kvm.checkExtension(KvmCap.MAX_VCPUS);
            if (kvmMax <= 0) {
                kvmMax = kvm.checkExtension(KvmCap.NR_VCPUS);
            }
        }
        try (VmManager manager = new VmManager()) {
            assertEquals(Math.min(VmConfig.MAX_VCPUS, kvmMax), manager.maxVcpus());
        }
    }
}
