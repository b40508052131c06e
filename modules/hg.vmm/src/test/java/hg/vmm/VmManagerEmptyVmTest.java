package hg.vmm;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The manager holds one empty VM while /dev/kvm is open (KVM's scheduler hooks stay on), and lets it go on close. */
class VmManagerEmptyVmTest {

    @BeforeEach
    void setUp() {
        GuestPrograms.assumeKvm();
    }

    /** This process's fds on KVM VMs (anon_inode:kvm-vm). */
    static long vmFds() throws IOException {
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            return s.filter(fd -> {
                try {
                    return Files.readSymbolicLink(fd).toString().equals("anon_inode:kvm-vm");
                } catch (IOException e) {
                    return false;   // closed meanwhile
                }
            }).count();
        }
    }

    @Test
    void oneEmptyVmIsHeldWhileKvmIsOpenAndClosedWithTheManager() throws Exception {
        Path uart = GuestPrograms.elf("uart");
        long before = vmFds();
        try (VmManager manager = new VmManager()) {
            assertEquals(before, vmFds(), "nothing before the first create opens /dev/kvm");
            int id = manager.create(VmConfig.of(uart, null).withMemory(64L << 20));
            assertEquals(before + 2, vmFds(), "the VM and the empty one");
            manager.destroy(id);
            assertEquals(before + 1, vmFds(), "the empty VM outlives the VMs");
        }
        assertEquals(before, vmFds(), "closed with the manager");
    }
}
