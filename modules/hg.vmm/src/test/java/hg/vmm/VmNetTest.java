package hg.vmm;

import hg.kvm.testkit.TestNetns;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * VMs with a network card on the real /dev/kvm, made inside a network namespace of the
 * test's own: the guest's driver pings the bridge address through virtio-net, its TAP and the
 * namespace's kernel.
 */
@ExtendWith(TestNetns.PerTest.class)
class VmNetTest {

    static final long MEM = 64L << 20;
    @BeforeEach
    void setUp() {
        GuestPrograms.assumeKvm();
    }

    @Test
    void guestPingsTheBridgeThroughItsTap(TestNetns ns) throws Exception {
        Path elf = GuestPrograms.elf("net");
        ns.run(() -> {
            try (VmManager manager = new VmManager()) {
                int id = manager.create(VmConfig.of(elf, null).withMemory(MEM).withNet(true));
                Vm vm = manager.require(id);
                String tap = "hgvm" + id;
                assertTrue(vm.cmdline().contains("virtio_mmio.device=4K@0xd0000000:5"), vm.cmdline());   // rng
                assertTrue(vm.cmdline().contains("virtio_mmio.device=4K@0xd0001000:6"), vm.cmdline());   // net
                assertTrue(vm.cmdline().contains("ip=172.30.0." + (id + 1) + "::172.30.0.1:255.255.0.0::eth0:off"), vm.cmdline());
                VmNet net = vm.info().net().orElseThrow();
                assertEquals(new VmNet(String.format("02:68:67:00:00:%02x", id), "172.30.0." + (id + 1) + "/16",
                        "172.30.0.1", "tap " + tap + " on hgbr0", "java"), net);
                assertEquals(new StopReason.DebugExit(0), VmTest.awaitStop(vm), () -> "console: " + VmTest.text(vm));
                assertTrue(VmTest.text(vm).contains("virtio-net ok"));
                assertFalse(ns.links().contains(tap), "a stopped VM's TAP is gone");
                assertEquals(vm.info().net(), java.util.Optional.of(net), "vm_list still says what the card was");
                // ARP and ping out, their answers in: the card's own counts (the Java data path), kept after the stop.
                VmCounters c = vm.info().counters();
                assertTrue(c.netTxBytes() >= 42 + 1042 && c.netRxBytes() >= 42 + 1042, "an ARP frame and a ping of 1000 bytes each way: " + c);
            }
            return null;
        });
    }

    @Test
    void aGuestPingingThroughItsCardPingsOnAfterRestore(TestNetns ns) throws Exception {
        Path elf = GuestPrograms.elf("net");
        Path dir = java.nio.file.Files.createTempDirectory("hg-net-busy");
        ns.run(() -> {
            try (VmManager manager = new VmManager()) {
                int id = manager.create(VmConfig.of(elf, null).withMemory(MEM).withNet(true).withCmdline("hg_net_loop"));
                Vm vm = manager.require(id);
                VmTest.awaitOutput(vm, "ping 00020 ok\n");
                manager.snapshot(id, dir, true);
                String before = VmTest.text(vm);
                int last = before.lastIndexOf("ping ");
                int seq = Integer.parseInt(before.substring(last + 5, last + 10));
                Vm restored = manager.require(manager.restore(dir, false));
                // The rings, the card's queue positions and the guest's driver went on together.
                VmTest.awaitOutput(restored, String.format("ping %05d ok\n", seq + 20));
            }
            return null;
        });
    }

    @Test
    void aRestoredVmKeepsItsAddressAndANetworkedVmWithoutVsockIsNotCloned(TestNetns ns) throws Exception {
        Path elf = GuestPrograms.elf("count");
        Path dir = java.nio.file.Files.createTempDirectory("hg-net-snap");
        ns.run(() -> {
            try (VmManager manager = new VmManager()) {
                int id = manager.create(VmConfig.of(elf, null).withMemory(MEM).withNet(true));
                Vm vm = manager.require(id);
                VmTest.awaitOutput(vm, "tick 2 ");
                VmNet net = vm.info().net().orElseThrow();
                VmException clone = assertThrows(VmException.class, () -> manager.clone(id, 1));
                assertEquals("vm " + id + " has a network card and no vsock: its clones could not be told their own MAC"
                        + " and address by its agent; clone a VM made with --vsock, or with --no-net", clone.getMessage());
                manager.snapshot(id, dir, false);
                VmException busy = assertThrows(VmException.class, () -> manager.restore(dir, false));
                assertTrue(busy.getMessage().contains("172.30.0." + (id + 1)), busy.getMessage());
                manager.destroy(id);
                Vm restored = manager.require(manager.restore(dir, false));
                VmNet again = restored.info().net().orElseThrow();
                assertEquals(net.mac(), again.mac());
                assertEquals(net.address(), again.address());
                assertTrue(ns.ip("-o", "link", "show", "master", "hgbr0").contains(again.tap().split(" ")[1]), again.tap());
                VmTest.awaitOutput(restored, "tick ");
            }
            return null;
        });
    }

    @Test
    void aNetworkedClonePlacesItsCardOnAPlaceOfItsOwn(TestNetns ns) throws Exception {
        Path elf = GuestPrograms.elf("count");
        Path vsock = java.nio.file.Files.createTempDirectory("hg-net-clone").resolve("parent.vsock");
        ns.run(() -> {
            try (VmManager manager = new VmManager()) {
                int id = manager.create(VmConfig.of(elf, null).withMemory(MEM).withNet(true).withVsock(vsock));
                VmTest.awaitOutput(manager.require(id), "tick 2 ");
                VmNet parent = manager.require(id).info().net().orElseThrow();
                List<Integer> clones = manager.clone(id, 2);
                java.util.Set<String> macs = new java.util.HashSet<>(List.of(parent.mac()));
                java.util.Set<String> addresses = new java.util.HashSet<>(List.of(parent.address()));
                for (int c : clones) {
                    Vm clone = manager.require(c);
                    VmNet net = clone.info().net().orElseThrow();
                    assertTrue(macs.add(net.mac()) && addresses.add(net.address()), "a MAC and address of its own: " + net);
                    assertEquals(String.format("02:68:67:00:00:%02x", c), net.mac());
                    assertEquals("tap hgvm" + c + " on hgbr0", net.tap());
                    assertEquals(java.util.Optional.of(vsock.resolveSibling("vm" + c + ".vsock")), clone.info().vsock(),
                            "a socket of its own beside its parent's");
                    assertTrue(ns.ip("-o", "link", "show", "master", "hgbr0").contains("hgvm" + c));
                    VmTest.awaitOutput(clone, "tick ");   // it runs on from its parent's count
                }
                assertEquals(parent, manager.require(id).info().net().orElseThrow(), "the parent keeps its own");
            }
            return null;
        });
        assertEquals(List.of("lo", "hgbr0"), ns.links());
    }

    @Test
    void twentyCreateDestroyCyclesLeaveNoTap(TestNetns ns) throws Exception {
        Path elf = GuestPrograms.elf("uart");
        ns.run(() -> {
            try (VmManager manager = new VmManager()) {
                for (int i = 0; i < 20; i++) {
                    int id = manager.create(VmConfig.of(elf, null).withMemory(MEM).withNet(true));
                    if (i == 0) {
                        VmTest.awaitOutput(manager.require(id), "ready\n");   // the guest waits for input: its VM runs
                        assertTrue(ns.ip("-o", "link", "show", "master", "hgbr0").contains("hgvm" + id));
                    }
                    manager.destroy(id);
                }
            }
            return null;
        });
        assertEquals(List.of("lo", "hgbr0"), ns.links());
    }

    @Test
    void aVmWhoseTapCannotBeMadeIsNotMadeAtAll(TestNetns ns) throws Exception {
        Path elf = GuestPrograms.elf("uart");
        ns.run(() -> {
            try (VmManager manager = new VmManager()) {
                ns.ip("link", "add", "hgvm1", "type", "bridge");   // takes the first VM's TAP name
                VmException e = assertThrows(VmException.class,
                        () -> manager.create(VmConfig.of(elf, null).withMemory(MEM).withNet(true)));
                assertTrue(e.getMessage().startsWith("no network for vm 1: TUNSETIFF hgvm1: "), e.getMessage());
                assertTrue(manager.list().isEmpty());
                ns.ip("link", "del", "hgvm1");   // the failed create gave its id back: the next one is 1 again
                int id = manager.create(VmConfig.of(elf, null).withMemory(MEM).withNet(true));
                assertEquals(1, id);
                assertTrue(ns.links().contains("hgvm1"));
            }
            return null;
        });
    }
}
