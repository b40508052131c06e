package hg.vmm;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Creation errors, destroy, pause, multiple vCPUs, and that nothing leaks. */
class VmLifecycleTest {

    static final long MEM = 32L << 20;

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

    static long openFds() throws IOException {
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            return s.count();
        }
    }

    /** A field of /proc/self/status in KiB (VmRSS, VmSize). */
    static long statusKib(String field) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith(field + ":")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IOException("no " + field + " in /proc/self/status");
    }

    /** Mappings of vCPU run pages (anon_inode:kvm-vcpu) in this process. */
    static long vcpuMappings() throws IOException {
        return Files.readAllLines(Path.of("/proc/self/maps")).stream().filter(l -> l.contains("kvm-vcpu")).count();
    }

    static long vmThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith("vm")).count();
    }

    @Test
    void creationErrorsNameTheProblemAndLeaveNothingBehind() throws Exception {
        Path uart = GuestPrograms.elf("uart");
        Path notAKernel = dir.resolve("notes.txt");
        Files.writeString(notAKernel, "this is not a kernel\n".repeat(100));
        Path image = dir.resolve("root.img");
        Files.write(image, new byte[1 << 20]);
        // Warm up once so lazily opened fds (/dev/kvm, jars) are counted in the baseline.
        manager.destroy(manager.create(VmConfig.of(uart, image).withMemory(MEM)));
        long fds = openFds();

        VmException missing = assertThrows(VmException.class,
                () -> manager.create(VmConfig.of(dir.resolve("vmlinux-none"), image).withMemory(MEM)));
        assertTrue(missing.getMessage().contains("vmlinux-none"), missing.getMessage());
        VmException bad = assertThrows(VmException.class, () -> manager.create(VmConfig.of(notAKernel, image).withMemory(MEM)));
        assertTrue(bad.getMessage().contains("notes.txt"), bad.getMessage());
        VmException noImage = assertThrows(VmException.class,
                () -> manager.create(VmConfig.of(uart, dir.resolve("gone.img")).withMemory(MEM)));
        assertTrue(noImage.getMessage().contains("gone.img"), noImage.getMessage());
        assertThrows(VmException.class, () -> manager.create(VmConfig.of(uart, null).withMemory(4096L << 30)));

        int first = manager.create(VmConfig.of(uart, image).withMemory(MEM));
        ImageBusyException busy = assertThrows(ImageBusyException.class,
                () -> manager.create(VmConfig.of(uart, image).withMemory(MEM)));
        assertTrue(busy.getMessage().contains("root.img"), busy.getMessage());
        // A reader may look at an image another VM writes; no second writer may.
        int reader = manager.create(VmConfig.of(uart, image).withReadOnly(true).withMemory(MEM));
        assertEquals(2, manager.list().size());
        manager.destroy(reader);
        manager.destroy(first);
        VmException unknown = assertThrows(VmException.class, () -> manager.destroy(first));
        assertTrue(unknown.getMessage().contains("no VM with id " + first));
        assertEquals(fds, openFds());
        assertEquals(0, vmThreads());
    }

    @Test
    void readOnlyImagesCanBeSharedAndAreAnnouncedReadOnly() throws Exception {
        Path image = dir.resolve("ro.img");
        Files.write(image, new byte[1 << 20]);
        Path uart = GuestPrograms.elf("uart");
        Vm a = manager.require(manager.create(VmConfig.of(uart, image).withReadOnly(true).withMemory(MEM)));
        Vm b = manager.require(manager.create(VmConfig.of(uart, image).withReadOnly(true).withMemory(MEM)));
        assertTrue(a.cmdline().contains("root=/dev/vda ro"), a.cmdline());
        assertThrows(ImageBusyException.class, () -> manager.create(VmConfig.of(uart, image).withMemory(MEM)));
        manager.destroy(a.id());
        manager.destroy(b.id());
        manager.destroy(manager.create(VmConfig.of(uart, image).withMemory(MEM)));
    }

    @Test
    void destroyIsIdempotentAndStopsEveryVcpu() throws Exception {
        // vCPUs 1-3 wait for a SIPI that never comes, blocked inside KVM_RUN: destroy must kick them out.
        Vm vm = manager.require(manager.create(VmConfig.of(GuestPrograms.elf("uart"), null).withVcpus(4).withMemory(MEM)));
        VmTest.awaitOutput(vm, "ready\n");
        assertEquals(4, vmThreads() - 1);   // four vCPU threads and the I/O thread
        long start = System.nanoTime();
        vm.destroy();
        vm.destroy();
        assertTrue(System.nanoTime() - start < Duration.ofSeconds(5).toNanos());
        assertEquals(new VmState.Stopped(new StopReason.Destroyed()), vm.state());
        assertEquals(new StopReason.Destroyed(), vm.awaitStop(Duration.ZERO).orElseThrow());
        assertEquals(0, vmThreads());
        // The console keeps its history and tells late listeners that the VM ended.
        boolean[] ended = {false};
        StringBuilder replay = new StringBuilder();
        vm.console().attach(new Console.Listener() {
            @Override
            public void output(byte[] bytes) {
                replay.append(new String(bytes, StandardCharsets.US_ASCII));
            }

            @Override
            public void ended() {
                ended[0] = true;
            }
        });
        assertTrue(replay.toString().endsWith("ready\n"));
        assertTrue(ended[0]);
    }

    static java.util.Set<Thread> threadsOf(int vm) {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith("vm" + vm + "-"))
                .collect(java.util.stream.Collectors.toSet());
    }

    @Test
    void aDestroyedVmsThreadsRunTheNextVm() throws Exception {
        Path uart = GuestPrograms.elf("uart");
        int a = manager.create(VmConfig.of(uart, null).withVcpus(2).withMemory(MEM));
        VmTest.awaitOutput(manager.require(a), "ready\n");
        java.util.Set<Thread> first = threadsOf(a);
        assertEquals(3, first.size());
        // Destroy kicks both vCPUs out of KVM_RUN (vCPU 1 waits there for a SIPI): the kick must not carry over.
        manager.destroy(a);
        int b = manager.create(VmConfig.of(uart, null).withVcpus(2).withMemory(MEM));
        Vm vm = manager.require(b);
        VmTest.awaitOutput(vm, "ready\n");
        java.util.Set<Thread> second = threadsOf(b);
        assertEquals(first, second, "the same three threads, under the new VM's names");
        vm.console().input("bye\n".getBytes(StandardCharsets.US_ASCII));
        assertTrue(vm.awaitStop(Duration.ofSeconds(20)).isPresent(), "the guest on reused threads answers and exits");
        StopReason end = vm.awaitStop(Duration.ZERO).orElseThrow();
        assertTrue(end instanceof StopReason.DebugExit, end.toString());
        VmTest.awaitOutput(vm, "bye");
    }

    @Test
    void aConsoleListenerMayDestroyItsVm() throws Exception {
        Vm vm = manager.require(manager.create(VmConfig.of(GuestPrograms.elf("uart"), null).withMemory(MEM)));
        StringBuilder seen = new StringBuilder();
        // Listeners run on the vCPU thread that wrote the byte: destroy must not wait for that thread.
        vm.console().attach(bytes -> {
            seen.append(new String(bytes, StandardCharsets.US_ASCII));
            if (seen.toString().endsWith("ready\n")) {
                vm.destroy();
            }
        });
        assertEquals(new StopReason.Destroyed(), VmTest.awaitStop(vm));
        assertEquals(0, vmThreads());
    }

    @Test
    void destroyRacingTheGuestsOwnStopEndsCleanly() throws Exception {
        Path uart = GuestPrograms.elf("uart");
        for (int i = 0; i < 30; i++) {
            Vm vm = manager.require(manager.create(VmConfig.of(uart, null).withMemory(MEM)));
            VmTest.awaitOutput(vm, "ready\n");
            vm.console().input("bye\n".getBytes(StandardCharsets.US_ASCII));   // the guest answers and exits...
            if (i % 3 != 0) {
                Thread.sleep(i % 5);
            }
            manager.destroy(vm.id());                                           // ...while it is destroyed
            StopReason r = vm.awaitStop(Duration.ZERO).orElseThrow();
            assertTrue(r instanceof StopReason.Destroyed || r instanceof StopReason.DebugExit, r.toString());
        }
        assertEquals(0, vmThreads());
    }

    @Test
    void pauseHoldsTheGuestAndResumeLetsItGoOn() throws Exception {
        Vm vm = manager.require(manager.create(VmConfig.of(GuestPrograms.elf("uart"), null).withMemory(MEM)));
        VmTest.awaitOutput(vm, "ready\n");
        vm.pause();
        vm.console().input("x\n".getBytes(StandardCharsets.US_ASCII));
        assertTrue(vm.awaitStop(Duration.ofMillis(300)).isEmpty());
        assertEquals("", VmTest.text(vm).replaceAll("(?s).*ready\n", ""));
        vm.resume();
        assertInstanceOf(StopReason.DebugExit.class, VmTest.awaitStop(vm));
        assertTrue(VmTest.text(vm).endsWith("got: x\n"));
    }

    @Test
    void twentyVmsRunAtOnceAndLeaveNothingWhenDestroyed() throws Exception {
        Path uart = GuestPrograms.elf("uart");
        VmConfig config = VmConfig.of(uart, null).withMemory(16L << 20);
        manager.destroy(manager.create(config));   // warm-up: classes loaded, arenas made
        System.gc();
        long fds = openFds();
        long rss = statusKib("VmRSS") - Runtime.getRuntime().totalMemory() / 1024;
        long vcpuMaps = vcpuMappings();
        java.util.List<Integer> ids = new java.util.ArrayList<>();
        for (int i = 0; i < 20; i++) {
            ids.add(manager.create(config));
        }
        for (int id : ids) {
            VmTest.awaitOutput(manager.require(id), "ready\n");   // each guest waits for input: all 20 run at once
        }
        assertEquals(20, manager.list().stream().filter(vm -> vm.state() instanceof VmState.Running).count());
        assertEquals(40, vmThreads(), "a vCPU thread and an I/O thread per VM");
        for (int id : ids) {
            manager.destroy(id);
        }
        System.gc();
        assertEquals(0, vmThreads(), "VM threads after destroying all 20");
        assertEquals(fds, openFds(), "open file descriptors after destroying all 20");
        assertEquals(vcpuMaps, vcpuMappings(), "vCPU run page mappings after destroying all 20");
        long outsideAfter = statusKib("VmRSS") - Runtime.getRuntime().totalMemory() / 1024;
        assertTrue(outsideAfter - rss < 32 * 1024, "RSS outside the heap grew from " + rss + " KiB to " + outsideAfter + " KiB");
    }

    @Test
    void aThousandCreateDestroyCyclesLeakNothing() throws Exception {
        Path uart = GuestPrograms.elf("uart");
        Path image = dir.resolve("cycle.img");
        Files.write(image, new byte[1 << 20]);
        VmConfig config = VmConfig.of(uart, image);   // the default 256 MiB
        // Warm up: JIT compilation and malloc arenas settle before the baseline is taken.
        for (int i = 0; i < 100; i++) {
            manager.destroy(manager.create(config));
        }
        System.gc();
        long fds = openFds();
        long rss = statusKib("VmRSS");
        long heap = Runtime.getRuntime().totalMemory() / 1024;
        long virtual = statusKib("VmSize");
        long vcpuMaps = vcpuMappings();
        long start = System.nanoTime();
        long createNs = 0;
        for (int i = 0; i < 1000; i++) {
            long t0 = System.nanoTime();
            int id = manager.create(config);
            createNs += System.nanoTime() - t0;
            if (i % 100 == 0) {
                VmTest.awaitOutput(manager.require(id), "ready\n");
            }
            manager.destroy(id);
        }
        long elapsedMs = (System.nanoTime() - start) / 1_000_000;
        System.gc();
        long rssAfter = statusKib("VmRSS");
        long heapAfter = Runtime.getRuntime().totalMemory() / 1024;
        long virtualAfter = statusKib("VmSize");
        assertEquals(fds, openFds(), "open file descriptors");
        assertEquals(0, vmThreads());
        assertEquals(vcpuMaps, vcpuMappings(), "vCPU run page mappings");
        // A leaked guest mapping adds 256 MiB of address space per cycle, a leaked thread its stack.
        assertTrue(virtualAfter - virtual < 64 * 1024, "VmSize grew from " + virtual + " KiB to " + virtualAfter + " KiB");
        // Resident memory outside the Java heap (which may grow while the cycles allocate): a leaked
        // guest (page tables, boot structures, touched pages: >= 100 KiB each) would add 100 MiB or more.
        long outside = rss - heap;
        long outsideAfter = rssAfter - heapAfter;
        System.out.printf("1000 create/destroy cycles: %d ms (create %d ms), RSS %d -> %d KiB (heap %d -> %d KiB),"
                + " VmSize %d -> %d KiB, %d fds%n", elapsedMs, createNs / 1_000_000, rss, rssAfter, heap, heapAfter,
                virtual, virtualAfter, fds);
        assertTrue(outsideAfter - outside < 64 * 1024, "RSS outside the heap grew from " + outside + " KiB to " + outsideAfter + " KiB");
    }
}
