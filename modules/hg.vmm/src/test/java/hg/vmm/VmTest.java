package hg.vmm;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** VMs on the real /dev/kvm running tiny C guests. */
class VmTest {

    static final long MEM = 64L << 20;

    @TempDir
    Path dir;

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

    static String text(Vm vm) {
        return new String(vm.console().history(), StandardCharsets.US_ASCII);
    }

    static void awaitOutput(Vm vm, String marker) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!text(vm).contains(marker)) {
            if (System.nanoTime() > deadline || vm.state() instanceof VmState.Stopped) {
                throw new AssertionError("no '" + marker.strip() + "' on the console of " + vm + "; it says:\n" + text(vm));
            }
            Thread.sleep(5);
        }
    }

    static StopReason awaitStop(Vm vm) throws InterruptedException {
        Optional<StopReason> r = vm.awaitStop(Duration.ofSeconds(20));
        assertTrue(r.isPresent(), () -> vm + " did not stop; console:\n" + text(vm));
        return r.get();
    }

    @Test
    void guestPrintsAndReadsThroughUartInterrupts() throws Exception {
        Vm vm = manager.require(manager.create(VmConfig.of(GuestPrograms.elf("uart"), null).withMemory(MEM)));
        awaitOutput(vm, "ready\n");
        assertInstanceOf(VmState.Running.class, vm.state());
        vm.console().input("ping\n".getBytes(StandardCharsets.US_ASCII));
        StopReason reason = awaitStop(vm);
        StopReason.DebugExit exit = assertInstanceOf(StopReason.DebugExit.class, reason);
        int txInterrupts = exit.code() >>> 8;
        int rxInterrupts = exit.code() & 0xff;
        // 79, 6, 5 and 5 bytes in chunks of at most 16 per THRE interrupt: 5 + 1 + 1 + 1.
        assertTrue(txInterrupts >= 8, "THRE interrupts: " + txInterrupts);
        assertTrue(rxInterrupts >= 1, "RX interrupts: " + rxInterrupts);
        assertTrue(text(vm).startsWith("hello from the guest: every byte of this line left through the THRE interrupt\nready\n"),
                text(vm));
        assertTrue(text(vm).endsWith("got: ping\n"), text(vm));
        // The guest touched the boot timer once, early.
        assertEquals(1, vm.bootMarks().size());
        assertEquals(1L, vm.bootMarks().getFirst().getKey());
        assertTrue(vm.bootMarks().getFirst().getValue().compareTo(vm.uptime()) < 0);
    }

    /** The console's data port is coalesced: its last byte, with no exit after it, is still shown (within the flush period). */
    @Test
    void whatAGuestSaysBeforeItHaltsForGoodReachesTheConsole() throws Exception {
        Vm vm = manager.require(manager.create(VmConfig.of(GuestPrograms.elf("quiet"), null).withMemory(MEM)));
        awaitOutput(vm, "said before a halt for good\n");
        assertInstanceOf(VmState.Running.class, vm.state());
    }

    @Test
    void guestDriverWritesFlushesAndReadsVirtioBlk() throws Exception {
        Path image = dir.resolve("disk.img");
        Files.write(image, new byte[1 << 20]);
        Vm vm = manager.require(manager.create(VmConfig.of(GuestPrograms.elf("blk"), image).withMemory(MEM)));
        assertTrue(vm.cmdline().contains("virtio_mmio.device=4K@0xd0000000:5"), vm.cmdline());
        assertEquals(new StopReason.DebugExit(0), awaitStop(vm), () -> "console: " + text(vm) + " disk: " + vm.diskFailure());
        assertTrue(text(vm).contains("virtio-blk ok"));
        byte[] file = Files.readAllBytes(image);
        byte[] expected = new byte[4096];
        for (int i = 0; i < expected.length; i++) {
            expected[i] = (byte) (i * 13 + 7);
        }
        assertArrayEquals(expected, Arrays.copyOfRange(file, 2 * 512, 2 * 512 + 4096));
        assertEquals(0, file[2 * 512 - 1]);
        assertEquals(0, file[10 * 512]);
        // What it wrote and read back is counted; the id (not data) and the refused read past the end are not.
        VmCounters c = vm.info().counters();
        assertEquals(4096, c.diskWriteBytes(), c.toString());
        assertEquals(4096, c.diskReadBytes(), c.toString());
        assertTrue(c.vcpuExits() > 0, "a stopped VM keeps its counts: " + c);
        // The stopped VM released its lock: the image can be attached again.
        manager.destroy(vm.id());
        int again = manager.create(VmConfig.of(GuestPrograms.elf("blk"), image).withMemory(MEM));
        assertEquals(new StopReason.DebugExit(0), awaitStop(manager.require(again)));
    }

    @Test
    void aTripleFaultStopsOnlyThatVm() throws Exception {
        Vm survivor = manager.require(manager.create(VmConfig.of(GuestPrograms.elf("uart"), null).withMemory(MEM)));
        awaitOutput(survivor, "ready\n");
        Vm faulty = manager.require(manager.create(VmConfig.of(GuestPrograms.elf("triple"), null).withMemory(MEM)));
        StopReason.Shutdown stop = assertInstanceOf(StopReason.Shutdown.class, awaitStop(faulty));
        // Where it died, unless the host's KVM (AMD's) reset the vCPU before we could read it.
        assertTrue(stop.state().matches("rip 0x[0-9a-f]+ rsp .* cr3 0x[0-9a-f]+ .*") || stop.state().startsWith("registers lost"),
                stop::toString);
        assertTrue(text(faulty).contains("about to triple fault"));
        assertEquals(2, manager.list().size());
        assertInstanceOf(VmState.Stopped.class, manager.list().get(1).state());
        assertInstanceOf(VmState.Running.class, survivor.state());
        survivor.console().input("still here\n".getBytes(StandardCharsets.US_ASCII));
        assertInstanceOf(StopReason.DebugExit.class, awaitStop(survivor));
        assertTrue(text(survivor).endsWith("got: still here\n"));
    }

    @Test
    void everyVcpuStartsWhenTheGuestSendsInitAndSipi() throws Exception {
        Vm vm = manager.require(manager.create(VmConfig.of(GuestPrograms.elf("smp"), null).withMemory(MEM)
                .withVcpus(3).withCmdline("smp_vcpus=3")));
        assertEquals(new StopReason.DebugExit(3), awaitStop(vm), () -> "console: " + text(vm));
        // Each application processor printed its APIC id (1 and 2, in either order).
        assertEquals("12", text(vm).chars().sorted().collect(StringBuilder::new, StringBuilder::appendCodePoint,
                StringBuilder::append).toString());
    }
}
