package hg.vmm;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@code --hugepages} on the real /dev/kvm: a guest boots on 2 MiB hugetlbfs pages when the pool has
 * them, on transparent huge pages when it has too few, and says which; memory that is not whole huge
 * pages is refused before anything is made.
 */
class VmHugePagesTest {
    static final long MEM = 64L << 20;
    static final Path POOL = Path.of("/proc/sys/vm/nr_hugepages");
    static final Path FREE = Path.of("/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages");
    static final Path RESERVED = Path.of("/sys/kernel/mm/hugepages/hugepages-2048kB/resv_hugepages");
    static final Path THP = Path.of("/sys/kernel/mm/transparent_hugepage/enabled");

    VmManager manager;
    String poolBefore;

    @BeforeEach
    void open() throws IOException {
        GuestPrograms.assumeKvm();
        manager = new VmManager();
        poolBefore = Files.readString(POOL).strip();
    }

    @AfterEach
    void close() throws IOException {
        if (manager != null) {
            manager.close();
        }
        if (poolBefore != null) {
            Files.writeString(POOL, poolBefore);
        }
    }

    @Test
    void aGuestBootsOnHugetlbfsPagesWhenThePoolHasThem() throws Exception {
        try {
            Files.writeString(POOL, Integer.toString(Integer.parseInt(poolBefore) + (int) (MEM >> 21)));
        } catch (IOException e) {
            org.junit.jupiter.api.Assumptions.abort("cannot grow the hugetlbfs pool here: " + e.getMessage());
        }
        assumeTrue(Integer.parseInt(Files.readString(FREE).strip()) >= MEM >> 21, "the pool did not grow (fragmented memory)");
        Vm vm = manager.require(manager.create(VmConfig.of(GuestPrograms.elf("uart"), null).withMemory(MEM).withHugepages(true)));
        VmTest.awaitOutput(vm, "ready\n");
        assertEquals("2M hugetlbfs", vm.hugePages());
        assertEquals("2M hugetlbfs", vm.info().hugePages());
        assertEquals(Integer.parseInt(poolBefore), Integer.parseInt(Files.readString(FREE).strip())
                - Integer.parseInt(Files.readString(RESERVED).strip()), "the VM took or reserved every page it needs at once");
        vm.console().input("ping\n".getBytes(StandardCharsets.US_ASCII));
        VmTest.awaitStop(vm);
        assertTrue(VmTest.text(vm).endsWith("got: ping\n"), VmTest.text(vm));
    }

    @Test
    void anEmptyPoolFallsBackToTransparentHugePagesOrSaysWhy() throws Exception {
        Files.writeString(POOL, "0");
        assumeTrue(Integer.parseInt(Files.readString(POOL).strip()) == 0, "the pool's pages are in use");
        VmConfig config = VmConfig.of(GuestPrograms.elf("uart"), null).withMemory(MEM).withHugepages(true);
        String thp = Files.exists(THP) ? Files.readString(THP) : "";
        if (thp.contains("[always]") || thp.contains("[madvise]")) {
            Vm vm = manager.require(manager.create(config));
            VmTest.awaitOutput(vm, "ready\n");
            assertEquals("THP", vm.hugePages());
        } else {
            VmException e = assertThrows(VmException.class, () -> manager.create(config));
            assertTrue(e.getMessage().contains("no huge pages"), e.getMessage());
        }
        assertEquals(0, manager.list().stream().filter(i -> i.hugePages().equals("2M hugetlbfs")).count());
    }

    @Test
    void memoryThatIsNotWholeHugePagesIsRefused() throws Exception {
        VmException e = assertThrows(VmException.class,
                () -> VmConfig.of(GuestPrograms.elf("uart"), null).withMemory(MEM + 4096).withHugepages(true));
        assertTrue(e.getMessage().contains("whole 2 MiB pages"), e.getMessage());
        assertEquals("", manager.require(manager.create(VmConfig.of(GuestPrograms.elf("uart"), null).withMemory(MEM)))
                .hugePages(), "4 KiB pages unless asked");
    }
}
