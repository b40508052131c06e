package hg.kvm;

import hg.kvm.sys.EventFd;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Creating and destroying VMs gives back every fd and mapping. */
class LifecycleTest {
    static final long GUEST_KIB = 256;
    @BeforeEach
    void kvm() {
        KvmTestSupport.assumeKvm();
    }

    @Test
    void thousandCreateDestroyCyclesLeakNoFdsOrMappings() throws IOException {
        try (Kvm kvm = Kvm.open()) {
            cycle(kvm); // warm up lazily opened JDK files before counting
            long fds = openFds();
            long runMappings = kvmRunMappings();
            long virtualKib = virtualKib();
            for (int i = 0; i < 1000; i++) {
                cycle(kvm);
            }
            assertEquals(fds, openFds(), "open fds after 1000 VMs");
            assertEquals(runMappings, kvmRunMappings(), "kvm_run mappings after 1000 VMs");
            // 1000 leaked guest memories would add 1000 * 256 KiB; the JVM's own growth is far less
            long grownKib = virtualKib() - virtualKib;
            assertTrue(grownKib < GUEST_KIB * 1000 / 4, "address space grew by " + grownKib + " KiB");
        }
    }

    private static void cycle(Kvm kvm) {
        try (VmFd vm = kvm.createVm();
             GuestMemory mem = GuestMemory.map(List.of(new GuestMemory.Range(0, GUEST_KIB * 1024)));
             EventFd irq = EventFd.create()) {
            vm.registerMemory(mem);
            mem.write(0x1000, new Asm(0x1000).hlt().code());
            vm.createIrqchip();
            vm.registerIrqfd(irq, 4);
            VcpuFd vcpu = vm.createVcpu(0);
            Sregs s = vcpu.sregs();
            vcpu.setSregs(s.toBuilder().cs(s.cs().withBase(0).withSelector(0)).build());
            vcpu.setRegs(Regs.builder().rip(0x1000).build());
            vcpu.kick(); // a halted vCPU with an irqchip would block: run just once into the kick
            assertInstanceOf(VcpuExit.Interrupted.class, vcpu.run());
        }
    }

    @Test
    void closedGuestMemoryCannotBeReadAnyMore() {
        GuestMemory mem = GuestMemory.map(List.of(new GuestMemory.Range(0x1000, 0x2000)));
        mem.writeU32(0x1000, 42);
        assertEquals(42, mem.readU32(0x1000));
        mem.close();
        assertThrows(IllegalStateException.class, () -> mem.readU32(0x1000));
    }

    @Test
    void unalignedRangesAreRefusedForMappedMemory() {
        assertThrows(IllegalArgumentException.class,
                () -> GuestMemory.map(List.of(new GuestMemory.Range(0x1001, 0x1000))));
    }

    @Test
    void transparentHugePagesAreAlignedAndAdvised() throws IOException {
        try (GuestMemory mem = GuestMemory.map(List.of(new GuestMemory.Range(0, 4L << 20)),
                GuestMemory.Backing.TRANSPARENT_HUGE_PAGES)) {
            assertEquals(GuestMemory.Backing.TRANSPARENT_HUGE_PAGES, mem.backing());
            mem.writeU64((2L << 20) + 8, 7);
            assertEquals(7, mem.readU64((2L << 20) + 8));
            long host = mem.regions().getFirst().host().address();
            assertEquals(0, host % GuestMemory.HUGE_PAGE, "2 MiB aligned, so whole huge pages fit");
            assertTrue(SmapsEntry.advisedHugePages(host), "advised: VmFlags has hg");
        }
    }

    @Test
    void hugetlbMemoryComesFromThePoolOrFailsAtOnce() throws IOException {
        Path pool = Path.of("/proc/sys/vm/nr_hugepages");
        String before = Files.readString(pool).strip();
        List<GuestMemory.Range> ranges = List.of(new GuestMemory.Range(0, 4L << 20));
        if (Integer.parseInt(before) == 0) {
            KvmException e = assertThrows(KvmException.class, () -> GuestMemory.map(ranges, GuestMemory.Backing.HUGETLB_2M));
            assertTrue(e.getMessage().contains("ENOMEM"), e.getMessage());
        }
        try {
            Files.writeString(pool, Integer.toString(Integer.parseInt(before) + 2));
        } catch (IOException e) {
            org.junit.jupiter.api.Assumptions.abort("cannot grow the hugetlbfs pool here: " + e.getMessage());
        }
        try {
            org.junit.jupiter.api.Assumptions.assumeTrue(Integer.parseInt(Files.readString(Path.of(
                    "/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages")).strip()) >= 2, "no 2 MiB pages to be had");
            try (GuestMemory mem = GuestMemory.map(ranges, GuestMemory.Backing.HUGETLB_2M)) {
                assertEquals(GuestMemory.Backing.HUGETLB_2M, mem.backing());
                mem.writeU64((4L << 20) - 8, 9);
                assertEquals(9, mem.readU64((4L << 20) - 8));
                assertTrue(SmapsEntry.of(mem.regions().getFirst().host().address()).contains("KernelPageSize:     2048 kB"));
            }
            assertThrows(IllegalArgumentException.class, () -> GuestMemory.map(
                    List.of(new GuestMemory.Range(0, 3L << 20)), GuestMemory.Backing.HUGETLB_2M), "not whole 2 MiB pages");
        } finally {
            Files.writeString(pool, before);
        }
    }

    private static long openFds() throws IOException {
        try (var s = Files.list(Path.of("/proc/self/fd"))) {
            return s.count();
        }
    }

    private static long kvmRunMappings() throws IOException {
        return Files.readAllLines(Path.of("/proc/self/maps")).stream().filter(l -> l.contains("kvm-vcpu")).count();
    }

    private static long virtualKib() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmSize:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IllegalStateException("no VmSize in /proc/self/status");
    }
}
