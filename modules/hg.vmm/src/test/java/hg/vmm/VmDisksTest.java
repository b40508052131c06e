package hg.vmm;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Data disks on real /dev/kvm: their order, their slots, their locks, and the limit. */
class VmDisksTest {
    static final long MEM = 64L << 20;

    @TempDir
    Path dir;

    @BeforeEach
    void setUp() {
        GuestPrograms.assumeKvm();
    }

    private Path image(String name) throws IOException {
        return Files.write(dir.resolve(name), new byte[1 << 20]);
    }

    @Test
    void dataDisksFollowTheRootImageInOrderEachWithItsSlot() throws Exception {
        Path elf = GuestPrograms.elf("uart");
        Path root = image("root.img");
        Path a = image("a.img");
        Path b = image("b.img");
        try (VmManager manager = new VmManager()) {
            Vm vm = manager.require(manager.create(VmConfig.of(elf, root).withMemory(MEM).withDisk(a, false).withDisk(b, true)));
            assertEquals(List.of(new VmDisk("vda", root, false), new VmDisk("vdb", a, false), new VmDisk("vdc", b, true)),
                    vm.info().disks());
            assertTrue(vm.cmdline().contains("root=/dev/vda rw virtio_mmio.device=4K@0xd0000000:5 "
                    + "virtio_mmio.device=4K@0xd0001000:6 virtio_mmio.device=4K@0xd0002000:7 "
                    + "virtio_mmio.device=4K@0xd0003000:8"), vm.cmdline());

            // The read-write data disk is that VM's alone; the read-only one may be shared read-only.
            VmConfig second = VmConfig.of(elf, null).withMemory(MEM);
            ImageBusyException busy = assertThrows(ImageBusyException.class, () -> manager.create(second.withDisk(a, false)));
            assertTrue(busy.getMessage().contains("a.img is already attached read-write to another VM"), busy.getMessage());
            assertThrows(ImageBusyException.class, () -> manager.create(second.withDisk(b, false)));
            int reader = manager.create(second.withDisk(b, true));
            manager.destroy(reader);
            manager.destroy(vm.id());
            manager.destroy(manager.create(second.withDisk(a, false)));
        }
    }

    @Test
    void aBusyOrMissingDiskFailsTheWholeCreateAndLeavesNothing() throws Exception {
        Path elf = GuestPrograms.elf("uart");
        Path root = image("root.img");
        Path held = image("held.img");
        try (VmManager manager = new VmManager()) {
            int holder = manager.create(VmConfig.of(elf, null).withMemory(MEM).withDisk(held, false));
            long fds = VmLifecycleTest.openFds();
            long threads = VmLifecycleTest.vmThreads();
            VmConfig wantsHeld = VmConfig.of(elf, root).withMemory(MEM).withDisk(image("free.img"), false).withDisk(held, false);
            assertThrows(ImageBusyException.class, () -> manager.create(wantsHeld));
            VmException missing = assertThrows(VmException.class,
                    () -> manager.create(VmConfig.of(elf, root).withMemory(MEM).withDisk(dir.resolve("nope.img"), true)));
            assertTrue(missing.getMessage().contains("nope.img does not exist"), missing.getMessage());
            VmException twice = assertThrows(VmException.class,
                    () -> manager.create(VmConfig.of(elf, root).withMemory(MEM).withDisk(root, true)));
            assertTrue(twice.getMessage().contains("is given twice"), twice.getMessage());
            assertEquals(fds, VmLifecycleTest.openFds());
            assertEquals(threads, VmLifecycleTest.vmThreads());
            // root.img and free.img were given back: another VM takes both read-write.
            manager.destroy(manager.create(VmConfig.of(elf, root).withMemory(MEM).withDisk(dir.resolve("free.img"), false)));
            manager.destroy(holder);
        }
    }

    @Test
    void eightDataDisksFitAndTheDeviceLimitIsOneLine() throws Exception {
        Path elf = GuestPrograms.elf("uart");
        try (VmManager manager = new VmManager()) {
            VmConfig eight = VmConfig.of(elf, image("root.img")).withMemory(MEM);
            for (int i = 0; i < 8; i++) {
                eight = eight.withDisk(image("d" + i + ".img"), i % 2 == 1);
            }
            Vm vm = manager.require(manager.create(eight));
            assertEquals("vdi", vm.info().disks().getLast().device());
            manager.destroy(vm.id());

            long fds = VmLifecycleTest.openFds();
            VmConfig tooMany = VmConfig.of(elf, null).withMemory(MEM);
            for (int i = 0; i < VmConfig.MAX_VIRTIO_DEVICES; i++) {
                tooMany = tooMany.withDisk(image("t" + i + ".img"), true);
            }
            VmConfig finalTooMany = tooMany;
            VmException e = assertThrows(VmException.class, () -> manager.create(finalTooMany));
            assertEquals("a VM has at most 19 virtio devices (interrupt lines 5 to 23); no line is left for its virtio-rng",
                    e.getMessage());
            assertEquals(fds, VmLifecycleTest.openFds());
        }
    }
}
