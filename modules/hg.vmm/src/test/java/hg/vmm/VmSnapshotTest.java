package hg.vmm;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Pause, snapshot and restore on the real /dev/kvm with a guest that counts while its LAPIC timer ticks. */
class VmSnapshotTest {
    private static final Pattern LINE = Pattern.compile("tick ([0-9a-f]+) count ([0-9a-f]+)\n");

    @TempDir
    Path tmp;

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

    private record Tick(long tick, long count) {
    }

    private static List<Tick> ticks(Vm vm) {
        Matcher m = LINE.matcher(VmTest.text(vm));
        java.util.ArrayList<Tick> out = new java.util.ArrayList<>();
        while (m.find()) {
            out.add(new Tick(Long.parseLong(m.group(1), 16), Long.parseLong(m.group(2), 16)));
        }
        return out;
    }

    private static Tick awaitTicks(Vm vm, int lines) throws InterruptedException {
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (ticks(vm).size() < lines) {
            if (System.nanoTime() > deadline || vm.state() instanceof VmState.Stopped) {
                throw new AssertionError(vm + " printed " + ticks(vm).size() + " of " + lines + " tick lines:\n"
                        + VmTest.text(vm));
            }
            Thread.sleep(5);
        }
        return ticks(vm).getLast();
    }

    private Vm counter() throws Exception {
        VmConfig c = new VmConfig(GuestPrograms.elf("count"), Optional.empty(), "", VmTest.MEM, 1, Optional.empty(), false);
        return manager.require(manager.create(c));
    }

    /** Waits until the VM's exits pass {@code least} (10 s at most); returns its counters then. */
    private static VmCounters awaitExits(Vm vm, long least) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        VmCounters c = vm.counters();
        while (c.vcpuExits() <= least) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(vm + " did not pass " + least + " exits: " + c + "\n" + VmTest.text(vm));
            }
            Thread.sleep(5);
            c = vm.counters();
        }
        return c;
    }

    @Test
    void aRunningGuestsExitsAreCountedAndGrowAndStandStillWhilePaused() throws Exception {
        Vm vm = counter();
        // The guest prints a line on the serial port every 16 ms: each byte is a few PIO exits.
        VmCounters first = awaitExits(vm, 0);
        VmCounters later = awaitExits(vm, first.vcpuExits() + 100);
        assertEquals(new VmCounters(later.vcpuExits(), 0, 0, 0, 0), later, "no disk, no network card");
        assertTrue(vm.info().counters().vcpuExits() >= later.vcpuExits(), "vm_list carries them");
        vm.pause();
        long paused = vm.counters().vcpuExits();
        Thread.sleep(100);
        assertEquals(paused, vm.counters().vcpuExits(), "a paused VM exits no more");
        vm.resume();
        awaitExits(vm, paused);
    }

    @Test
    void aRestoredGuestCountsOnFromWhereItWas() throws Exception {
        Vm vm = counter();
        awaitTicks(vm, 4);
        Path dir = tmp.resolve("snap");
        SnapshotInfo info = manager.snapshot(vm.id(), dir, true);
        assertInstanceOf(VmState.Stopped.class, vm.state(), "--stop destroys the VM once written");
        Tick before = ticks(vm).getLast();
        assertTrue(info.memoryDataBytes() < info.memoryBytes() / 4, "zero pages are holes: " + info);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("memory"))));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("state"))));

        Vm restored = manager.require(manager.restore(dir, false));
        Tick first = awaitTicks(restored, 1);
        List<Tick> after = ticks(restored);
        // The timer and the memory of the ticks went on: the next group, not a new count from 1.
        assertTrue(first.tick() == before.tick() + 1 || first.tick() == before.tick() + 2,
                "before the snapshot " + before + ", after the restore " + first);
        assertTrue(first.count() > before.count(), "the loop's count (a register) went on: " + before + " then " + first);
        awaitTicks(restored, after.size() + 3);
        assertInstanceOf(VmState.Running.class, restored.state());
    }

    @Test
    void aSnapshotOfARunningVmLeavesItRunningAndRestoresBesideIt() throws Exception {
        Vm vm = counter();
        awaitTicks(vm, 2);
        manager.snapshot(vm.id(), tmp.resolve("s"), false);
        int lines = ticks(vm).size();
        awaitTicks(vm, lines + 2);
        Vm twin = manager.require(manager.restore(tmp.resolve("s"), false));
        awaitTicks(twin, 2);
        assertInstanceOf(VmState.Running.class, vm.state());
    }

    @Test
    void aPausedVmStandsStillUntilResumed() throws Exception {
        Vm vm = counter();
        awaitTicks(vm, 2);
        vm.pause();
        assertInstanceOf(VmState.Paused.class, vm.state());
        assertEquals("paused", vm.info().state().toString());
        int lines = ticks(vm).size();
        Thread.sleep(200);
        assertEquals(lines, ticks(vm).size(), "a paused guest prints nothing");
        vm.resume();
        awaitTicks(vm, lines + 2);
    }

    @Test
    void aRestoreCanStayPaused() throws Exception {
        Vm vm = counter();
        awaitTicks(vm, 2);
        assertTrue(vm.counters().vcpuExits() > 0);
        manager.snapshot(vm.id(), tmp.resolve("p"), true);
        Vm restored = manager.require(manager.restore(tmp.resolve("p"), true));
        Thread.sleep(150);
        assertEquals(0, ticks(restored).size());
        assertEquals(VmCounters.NONE, restored.counters(), "it has not run yet, and a restored VM counts from 0");
        assertInstanceOf(VmState.Paused.class, restored.state());
        restored.resume();
        awaitTicks(restored, 2);
        assertTrue(restored.counters().vcpuExits() > 0);
    }

    @Test
    void anUnusableSnapshotIsRefusedWithOneLineAndNoVm() throws Exception {
        Vm vm = counter();
        awaitTicks(vm, 2);
        Path dir = tmp.resolve("bad");
        manager.snapshot(vm.id(), dir, true);
        byte[] good = Files.readAllBytes(dir.resolve("state"));

        byte[] flipped = good.clone();
        flipped[flipped.length / 2] ^= 0x10;
        assertRefused(dir, flipped, "damaged");

        byte[] version = good.clone();
        ByteBuffer.wrap(version).order(ByteOrder.LITTLE_ENDIAN).putInt(8, 99);
        assertRefused(dir, version, "format version 99");

        assertRefused(dir, java.util.Arrays.copyOf(good, good.length - 100), "truncated");

        Files.write(dir.resolve("state"), good);
        try (FileChannel m = FileChannel.open(dir.resolve("memory"), StandardOpenOption.WRITE)) {
            m.truncate(m.size() - 4096);
        }
        VmException e = assertThrows(VmException.class, () -> manager.restore(dir, false));
        assertTrue(e.getMessage().contains("memory"), e.getMessage());
        assertEquals(0, manager.list().size(), "no VM is made: " + manager.list());

        VmException none = assertThrows(VmException.class, () -> manager.restore(tmp.resolve("nothing"), false));
        assertTrue(none.getMessage().startsWith("no snapshot in"), none.getMessage());
    }

    @Test
    void clonesGoOnFromTheParentsStateAndLeaveItsDisksAlone() throws Exception {
        Path data = tmp.resolve("data.img");
        byte[] content = new byte[1 << 20];
        new java.util.Random(7).nextBytes(content);
        Files.write(data, content);
        manager.cloneDirectory(tmp.resolve("clones"));
        VmConfig c = new VmConfig(GuestPrograms.elf("count"), Optional.empty(), "", VmTest.MEM, 1, Optional.empty(), false)
                .withDisk(data, false);
        Vm parent = manager.require(manager.create(c));
        Tick parentAt = awaitTicks(parent, 3);
        List<Integer> clones = manager.clone(parent.id(), 3);
        assertEquals(3, clones.size());
        for (int id : clones) {
            Vm clone = manager.require(id);
            Tick first = awaitTicks(clone, 1);
            assertTrue(first.tick() > parentAt.tick() && first.count() > parentAt.count(), "clone " + id + " went on from the parent's count: " + first
                    + " (parent at " + parentAt + ")");
            Path base = clone.info().disks().getFirst().path();
            assertTrue(base.startsWith(tmp.resolve("clones")), "a clone's disk is an overlay over the frozen copy: " + base);
        }
        awaitTicks(parent, ticks(parent).size() + 2);
        Path frozenMemory;
        try (java.util.stream.Stream<Path> frozen = Files.list(tmp.resolve("clones"))) {
            List<Path> dirs = frozen.toList();
            assertEquals(1, dirs.size(), "one frozen image for the three clones");
            frozenMemory = dirs.getFirst().resolve("memory");
        }
        // The parent and each clone map the one memory file: its clean pages are held once.
        long mappers = Files.readAllLines(Path.of("/proc/self/maps")).stream()
                .filter(l -> l.endsWith(frozenMemory.toString())).count();
        assertEquals(4, mappers, "mappings of " + frozenMemory + " (the parent's and three clones')");
        for (int id : clones) {
            manager.destroy(id);
        }
        try (java.util.stream.Stream<Path> frozen = Files.list(tmp.resolve("clones"))) {
            assertEquals(0, frozen.count(), "the frozen image goes with the last clone");
        }
        manager.destroy(parent.id());
        org.junit.jupiter.api.Assertions.assertArrayEquals(content, Files.readAllBytes(data));
        assertThrows(VmException.class, () -> manager.clone(parent.id(), 1));
    }

    @Test
    void anotherProcessRestoresTheSnapshot() throws Exception {
        Vm vm = counter();
        awaitTicks(vm, 3);
        Path dir = tmp.resolve("moved");
        manager.snapshot(vm.id(), dir, true);
        Tick before = ticks(vm).getLast();
        String modulePath = System.getProperty("jdk.module.path");
        org.junit.jupiter.api.Assumptions.assumeTrue(modulePath != null, "the tests do not run on a module path");
        Path child = tmp.resolve("Restore.java");
        Files.writeString(child, """
                import hg.vmm.*;
                import java.nio.file.Path;
                public class Restore {
                    public static void main(String[] a) throws Exception {
                        try (VmManager m = new VmManager()) {
                            Vm vm = m.require(m.restore(Path.of(a[0]), false));
                            long end = System.nanoTime() + 20_000_000_000L;
                            String text = "";
                            while (System.nanoTime() < end && text.lines().count() < 3) {
                                Thread.sleep(20);
                                text = new String(vm.console().history());
                            }
                            System.out.print(text);
                        }
                    }
                }
                """);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "--enable-native-access=hg.kvm,hg.ninep", "-p", modulePath, "--add-modules", "hg.vmm",
                child.toString(), dir.toString()).redirectErrorStream(true).start();
        String out;
        try {
            out = new String(p.getInputStream().readAllBytes());
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the restoring process did not end");
        } finally {
            p.destroyForcibly();
        }
        Matcher m = LINE.matcher(out);
        assertTrue(m.find(), "the other process's restored guest printed no tick line:\n" + out);
        long tick = Long.parseLong(m.group(1), 16);
        assertTrue(tick == before.tick() + 1 || tick == before.tick() + 2,
                "the guest went on in the other process from " + before + ": " + m.group());
    }

    @Test
    void aSnapshotThatCannotBeWrittenLeavesTheVmRunning() throws Exception {
        Vm vm = counter();
        awaitTicks(vm, 2);
        Path file = tmp.resolve("a-file");
        Files.writeString(file, "not a directory");
        VmException e = assertThrows(VmException.class, () -> manager.snapshot(vm.id(), file.resolve("snap"), true));
        assertTrue(e.getMessage().startsWith("cannot write the snapshot into "), e.getMessage());
        assertInstanceOf(VmState.Running.class, vm.state(), "--stop destroys only after a snapshot was written");
        int lines = ticks(vm).size();
        awaitTicks(vm, lines + 2);
    }

    private void assertRefused(Path dir, byte[] state, String why) throws IOException {
        Files.write(dir.resolve("state"), state);
        int before = manager.list().size();
        VmException e = assertThrows(VmException.class, () -> manager.restore(dir, false));
        assertTrue(e.getMessage().contains(why), "expected '" + why + "' in: " + e.getMessage());
        assertTrue(!e.getMessage().contains("\n"), "one line: " + e.getMessage());
        assertEquals(before, manager.list().size());
    }
}
