package hg.boot;

import hg.kvm.GuestMemory;
import hg.kvm.Kvm;
import hg.kvm.VcpuExit;
import hg.kvm.VcpuFd;
import hg.kvm.VmFd;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The real guest kernel, loaded and configured by hg.boot, runs on this machine's /dev/kvm (with
 * the in-kernel irqchip and the host's supported CPUID) far enough to parse everything hg.boot
 * wrote: the test then reads the kernel's own log buffer out of guest memory and checks that Linux
 * saw the command line, the E820 map, the initrd and the MP table's CPUs as hg.boot laid them out. (On a PVM
 * host the kernel stops at its first cmpxchg16b in the slab allocator, after these steps; on a
 * full KVM host the test stops the vCPU once the lines are there.)
 */
class LinuxEarlyBootTest {
    static final long MiB = 1 << 20;
    static final long KERNEL_MAP = 0xffffffff80000000L; // __START_KERNEL_map: kernel virtual = physical + this

    @ParameterizedTest
    @ValueSource(strings = {"linux64", "pvh"})
    void realLinuxSeesTheLayoutHgBootWrote(String path) throws Exception {
        String dir = System.getenv("HG_KERNELS");
        Assumptions.assumeTrue(dir != null && !dir.isEmpty(),
                "HG_KERNELS is not set: no real guest kernel to run (the launcher sets it to the kernel build output)");
        Assumptions.assumeTrue(Kvm.present(), "/dev/kvm is absent on this host: no guest can run");
        Path vmlinux = Path.of(dir, "guest-vmlinux");
        assertTrue(Files.isRegularFile(vmlinux), vmlinux + " is missing although HG_KERNELS is set");
        // "address size type name" of the kernel's printk buffer.
        String[] symbol = RealKernelTest.run("nm", "-S", vmlinux.toString()).lines()
                .filter(l -> l.endsWith(" __log_buf")).findFirst().orElseThrow().split(" ");
        long logBuf = Long.parseUnsignedLong(symbol[0], 16) - KERNEL_MAP;
        int logSize = Integer.parseInt(symbol[1], 16);
        String cmdline = "console=ttyS0 hg.test=" + path;
        int vcpus = 3;
        String expectDone = "Processors: " + vcpus;

        try (Kvm kvm = Kvm.open(); VmFd vm = kvm.createVm();
             GuestMemory memory = GuestMemory.map(X86Layout.ramRanges(64 * MiB))) {
            vm.createIrqchip();
            vm.createPit2(0);
            vm.registerMemory(memory);
            LoadedKernel k = KernelLoader.load(memory, vmlinux);
            InitrdPlacement rd = InitrdLoader.load(memory, Fixtures.pattern(300_000, 9), k);
            BootConfig config = new BootConfig(cmdline, vcpus, rd);
            BootSetup boot = path.equals("pvh") ? LinuxBoot.configurePvh(memory, k, config)
                    : LinuxBoot.configure(memory, k, config);
            List<String> exits = new ArrayList<>();
            ScheduledExecutorService watchdog = Executors.newSingleThreadScheduledExecutor();
            try (VcpuFd vcpu = vm.createVcpu(0)) {
                vcpu.bindToCurrentThread();
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                watchdog.scheduleWithFixedDelay(() -> {
                    if (log(memory, logBuf, logSize).contains(expectDone) || System.nanoTime() > deadline) {
                        vcpu.kick();
                    }
                }, 50, 50, TimeUnit.MILLISECONDS);
                vcpu.setCpuid(kvm.supportedCpuid());
                KvmState.apply(vcpu, boot.bootCpu());
                run:
                while (true) {
                    VcpuExit e = vcpu.run();
                    switch (e) {
                        case VcpuExit.IoIn in -> in.setValue(in.port() == 0x3fd ? 0x60 : 0); // UART: ready to send
                        case VcpuExit.IoOut out -> { }
                        case VcpuExit.MmioRead r -> r.setValue(0);
                        case VcpuExit.MmioWrite w -> { }
                        default -> {
                            exits.add(e + " at rip 0x" + Long.toHexString(vcpu.regs().rip()));
                            break run;
                        }
                    }
                }
                vcpu.unbindThread();
            } finally {
                watchdog.shutdownNow();
                watchdog.awaitTermination(5, TimeUnit.SECONDS);
            }
            String log = log(memory, logBuf, logSize);
            String context = "guest stopped: " + exits + "; kernel log:\n" + log;
            assertTrue(log.contains("Command line: " + cmdline), context);
            for (E820Entry e : boot.e820()) {
                String line = String.format("BIOS-e820: [mem 0x%016x-0x%016x] %s", e.address(), e.end() - 1,
                        e.type() == E820Entry.RAM ? "usable" : "reserved");
                assertTrue(log.contains(line), "missing '" + line + "'; " + context);
            }
            assertTrue(log.contains("found SMP MP-table at [mem 0x0009fc00-0x0009fc0f]"), context);
            assertTrue(log.contains("MPTABLE: OEM ID: HYPERGEN"), context);
            for (int cpu = 0; cpu < vcpus; cpu++) {
                assertTrue(log.contains("Processor #" + cpu), "CPU " + cpu + " not found; " + context);
            }
            assertTrue(log.contains(expectDone), context);
            long ramdiskEnd = (rd.end() + 4095) & ~4095L;
            String ramdisk = String.format("RAMDISK: [mem %#010x-%#010x]", rd.address(), ramdiskEnd - 1);
            assertTrue(log.contains(ramdisk), "missing '" + ramdisk + "'; " + context);
            assertFalse(log.contains("BIOS bug"), context);
        }
    }

    /** The printable text of the kernel's printk buffer, records separated by newlines. */
    static String log(GuestMemory memory, long logBuf, int logSize) {
        byte[] raw = memory.read(logBuf, logSize);
        StringBuilder text = new StringBuilder();
        for (byte b : raw) {
            if (b >= 32 && b < 127) {
                text.append((char) b);
            } else if (b != 0 && (text.isEmpty() || text.charAt(text.length() - 1) != '\n')) {
                text.append('\n');
            }
        }
        return text.toString();
    }
}
