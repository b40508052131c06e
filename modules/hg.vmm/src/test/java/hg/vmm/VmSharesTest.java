package hg.vmm;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Shared folders on real /dev/kvm: a virtio-9p device per share, its tag's rules, and what such a VM cannot do yet. */
class VmSharesTest {
    static final long MEM = 64L << 20;

    @TempDir
    Path dir;

    @BeforeEach
    void setUp() {
        GuestPrograms.assumeKvm();
    }

    @Test
    void eachShareIsADeviceOfItsOwnAndVmListSaysWhich() throws Exception {
        Path src = Files.createDirectories(dir.resolve("src"));
        Path out = Files.createDirectories(dir.resolve("out"));
        try (VmManager manager = new VmManager()) {
            VmConfig.Share a = new VmConfig.Share(src, "src", true);
            VmConfig.Share b = new VmConfig.Share(out, "out", false);
            Vm vm = manager.require(manager.create(VmConfig.of(GuestPrograms.elf("uart"), null).withMemory(MEM)
                    .withShare(a).withShare(b)));
            assertEquals(List.of(a, b), vm.info().shares());
            // rng, then the two shares: one slot each, in order.
            assertTrue(vm.cmdline().contains("virtio_mmio.device=4K@0xd0000000:5 virtio_mmio.device=4K@0xd0001000:6 "
                    + "virtio_mmio.device=4K@0xd0002000:7"), vm.cmdline());
            VmException snap = assertThrows(VmException.class, () -> vm.snapshot(dir.resolve("snap")));
            assertEquals("vm " + vm.id() + " has shared folders: such a VM cannot be snapshotted or cloned yet",
                    snap.getMessage());
            assertThrows(VmException.class, () -> manager.clone(vm.id(), 1));
            assertEquals(VmState.Running.class, vm.state().getClass(), "a refused snapshot leaves it running");
        }
    }

    @Test
    void aShareThatCannotBeOpenedFailsTheCreateWithOneLineAndLeavesNothing() throws Exception {
        try (VmManager manager = new VmManager()) {
            // /dev/kvm and what the manager keeps open for good come with its first VM.
            manager.destroy(manager.create(VmConfig.of(GuestPrograms.elf("uart"), null).withMemory(MEM)));
            long fds = VmLifecycleTest.openFds();
            VmException e = assertThrows(VmException.class, () -> manager.create(VmConfig.of(GuestPrograms.elf("uart"), null)
                    .withMemory(MEM).withShare(new VmConfig.Share(dir.resolve("gone"), "gone", false))));
            assertTrue(e.getMessage().startsWith("cannot share " + dir.resolve("gone") + " as 'gone': "), e.getMessage());
            assertEquals(fds, VmLifecycleTest.openFds());
            assertEquals(List.of(), manager.list(), "destroyed and refused VMs are not listed");
        }
    }

    @Test
    void tagsAreNamesInTheGuestAndEachVmsOwn() {
        Path d = dir;
        for (String bad : List.of("", ".", "..", "a/b", "-x", "a b", "x".repeat(32), "tag\n")) {
            assertThrows(VmException.class, () -> new VmConfig.Share(d, bad, false), bad);
        }
        new VmConfig.Share(d, "a-b_c.9", false);
        VmConfig c = VmConfig.of(d, null).withShare(new VmConfig.Share(d, "x", false));
        VmException twice = assertThrows(VmException.class, () -> c.withShare(new VmConfig.Share(d.resolve("y"), "x", true)));
        assertEquals("two shares have the same tag: give each its own (tag=NAME)", twice.getMessage());
    }
}
