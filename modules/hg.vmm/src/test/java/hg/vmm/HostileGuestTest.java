package hg.vmm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hg.kvm.testkit.TestNetns;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A guest whose driver lies about everything (guests/hostile.c) on every device it has: a disk,
 * the entropy source and a network card on a TAP, in a network namespace of the test's own. It
 * ends in a triple fault, or spins with interrupts off and is destroyed; meanwhile a well-behaved
 * VM in the same JVM keeps running, and afterwards nothing the hostile VM held is left.
 */
@ExtendWith(TestNetns.PerTest.class)
class HostileGuestTest {
    static final long MEM = 64L << 20;

    @TempDir
    Path dir;

    @BeforeEach
    void setUp() {
        GuestPrograms.assumeKvm();
    }

    @Test
    void aHostileDriverThatTripleFaultsStopsAloneWithItsReason(TestNetns ns) throws Exception {
        survive(ns, "triple", hostile -> {
            assertInstanceOf(StopReason.Shutdown.class, VmTest.awaitStop(hostile), () -> VmTest.text(hostile));
            assertTrue(VmTest.text(hostile).contains("hostile done"), VmTest.text(hostile));
        });
    }

    @Test
    void aHostileDriverThatSpinsIsDestroyedAndFreesEverything(TestNetns ns) throws Exception {
        survive(ns, "spin", hostile -> {
            VmTest.awaitOutput(hostile, "hostile done\n");
            Thread.sleep(200);
            assertInstanceOf(VmState.Running.class, hostile.state(), "a spinning guest runs until destroyed");
        });
    }

    interface Scenario {
        void run(Vm hostile) throws Exception;
    }

    /** Runs {@code scenario} on a hostile VM next to a well-behaved one, destroys it, then checks what is left. */
    private void survive(TestNetns ns, String end, Scenario scenario) throws Exception {
        Path survivorElf = GuestPrograms.elf("uart");
        Path hostileElf = GuestPrograms.elf("hostile");
        Path image = dir.resolve("hostile.img");
        Files.write(image, new byte[1 << 20]);
        ns.run(() -> {
            try (VmManager manager = new VmManager()) {
                Vm survivor = manager.require(manager.create(VmConfig.of(survivorElf, null).withMemory(MEM)));
                VmTest.awaitOutput(survivor, "ready\n");
                System.gc();
                long fds = VmLifecycleTest.openFds();
                long vcpuMaps = VmLifecycleTest.vcpuMappings();
                long threads = VmLifecycleTest.vmThreads();

                Vm hostile = manager.require(manager.create(VmConfig.of(hostileElf, image).withMemory(MEM).withNet(true)
                        .withCmdline("hostile_end=" + end)));
                assertTrue(hostile.cmdline().contains("virtio_mmio.device=4K@0xd0002000:7"), "the net card is there");
                scenario.run(hostile);
                manager.destroy(hostile.id());

                assertInstanceOf(VmState.Running.class, survivor.state(), "the well-behaved VM next to it");
                assertEquals(List.of(survivor.id()), manager.list().stream().map(VmInfo::id).toList());
                assertEquals(fds, VmLifecycleTest.openFds(), "open file descriptors after destroying the hostile VM");
                assertEquals(vcpuMaps, VmLifecycleTest.vcpuMappings(), "vCPU run page mappings");
                assertEquals(threads, VmLifecycleTest.vmThreads(), "VM threads");
                assertEquals(List.of("lo", "hgbr0"), ns.links(), "the hostile VM's TAP is gone");

                survivor.console().input("still here\n".getBytes(StandardCharsets.US_ASCII));
                assertInstanceOf(StopReason.DebugExit.class, VmTest.awaitStop(survivor));
                assertTrue(VmTest.text(survivor).endsWith("got: still here\n"), VmTest.text(survivor));
            }
            return null;
        });
    }
}
