package hg.bench;

import hg.kvm.Kvm;
import hg.vmm.Vm;
import hg.vmm.VmConfig;
import hg.vmm.VmManager;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * create_cpu_ms: CPU time from "create the VM" to the guest's first instruction.
 *
 * <p>hyper-gen: {@link VmManager#create} (the shell's {@code vm_create} recipe: kernel file
 * check and ELF load, guest RAM, VM fd, memory slot, irqchip, PIT, irqfds, UART, i8042,
 * boot-timer and debug-exit devices, boot tables, vCPU with CPUID, MSRs, LAPIC and registers,
 * the I/O thread and the vCPU thread) booting {@code idle_guest.S} as its kernel, 256 MiB, one
 * vCPU, no disk. The guest's first instructions write to the boot-timer page: that exit is the
 * "first instruction". The CPU time is the creating thread's (around {@code create}) plus the
 * VM's own threads' (vCPU and I/O) when the mark has been recorded; the JVM's start-up, the
 * JIT compiler and GC threads are not in it (the process CPU time, which has them, is
 * printed beside). Measured warm: after a few creates in the same JVM; the first create of
 * the JVM is printed too.
 *
 * <p>Peer: vm_runner.c doing the same KVM set-up on one thread for the same guest bytes,
 * process CPU time from KVM_CREATE_VM to the return of the first KVM_RUN.
 */
final class CreateCpu implements Figure {
    static final String NAME = "create_cpu_ms";
    static final String UNIT = "CPU ms";
    static final String PEER = "C KVM runner (gcc -O2), same set-up and guest";
    static final String GOAL = "<= 8 ms, <= 2";
    static final long MEMORY = VmConfig.DEFAULT_MEMORY;
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();

    /** One create: CPU ms of the VM's threads and the creator, process CPU ms, wall ms to the mark. */
    record Sample(double cpuMs, double creatorMs, double processCpuMs, double wallMs) {}

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Result measure(Options options) throws Exception {
        if (!Kvm.present()) {
            return Result.unmeasured(NAME, UNIT, PEER, GOAL, "/dev/kvm is absent on this host");
        }
        Path dir = options.out().resolve("peers");
        Path runner = Gcc.build("vm_runner.c", dir);
        Path guest = Gcc.buildGuest("idle_guest.S", "idle_guest.ld", dir);
        VmConfig config = VmConfig.of(guest, null).withMemory(MEMORY);
        int rounds = 3;
        int perRound = options.quick() ? 5 : 15;
        int warmup = options.quick() ? 10 : 30;
        List<Sample> java = new ArrayList<>();
        List<double[]> peer = new ArrayList<>();
        Sample cold;
        try (Confined side = Confined.forFigure(NAME, guest.getParent(), null, List.of())) {
            VmManager manager = side.call(VmManager::new);
            try {
                cold = side.call(() -> createOnce(manager, config));
                side.call(() -> {
                    for (int i = 0; i < warmup; i++) {
                        createOnce(manager, config);
                    }
                    return null;
                });
                // Rounds alternate the two sides, so both see the same machine load.
                for (int r = 0; r < rounds; r++) {
                    java.addAll(side.call(() -> {
                        List<Sample> round = new ArrayList<>();
                        for (int i = 0; i < perRound; i++) {
                            round.add(createOnce(manager, config));
                        }
                        return round;
                    }));
                    peer.addAll(peerRun(runner, r == 0 ? warmup : 2, perRound));
                }
            } finally {
                side.run(manager::close);
            }
        }
        Stats cpu = Stats.of(java.stream().mapToDouble(Sample::cpuMs).toArray());
        Stats process = Stats.of(java.stream().mapToDouble(Sample::processCpuMs).toArray());
        Stats wall = Stats.of(java.stream().mapToDouble(Sample::wallMs).toArray());
        Stats creator = Stats.of(java.stream().mapToDouble(Sample::creatorMs).toArray());
        Stats peerCpu = Stats.of(peer.stream().mapToDouble(s -> s[1]).toArray());
        Stats peerWall = Stats.of(peer.stream().mapToDouble(s -> s[0]).toArray());
        System.err.printf(Locale.ROOT, "bench: %s: %d creates each side; CPU ms hyper-gen %.3f (%.3f..%.3f), C %.3f"
                        + " (%.3f..%.3f); hyper-gen's creating thread %.3f of it, the VM's own threads the rest;"
                        + " hyper-gen process CPU (with JIT/GC threads) %.3f (%.3f..%.3f);"
                        + " wall ms to the first exit hyper-gen %.3f, C %.3f; first create of the JVM: CPU %.1f ms,"
                        + " wall %.1f ms%n",
                NAME, cpu.runs(), cpu.median(), cpu.min(), cpu.max(), peerCpu.median(), peerCpu.min(), peerCpu.max(),
                creator.median(), process.median(), process.min(), process.max(), wall.median(), peerWall.median(), cold.cpuMs(),
                cold.wallMs());
        Map<String, Object> extra = new LinkedHashMap<>();
        extra.put("peer_min", peerCpu.min());
        extra.put("peer_max", peerCpu.max());
        extra.put("creator_thread_cpu_ms", creator.median());
        extra.put("process_cpu_ms", process.median());
        extra.put("wall_ms", wall.median());
        extra.put("peer_wall_ms", peerWall.median());
        extra.put("first_create_cpu_ms", cold.cpuMs());
        extra.put("note", "hg.vmm VmManager.create of a 256 MiB 1-vCPU VM booting a 15-byte ELF guest to its first"
                + " exit (boot-timer MMIO write); CPU of the creating thread + the VM's vCPU and I/O threads,"
                + " warm JVM, JVM start-up/JIT/GC not included; peer: the same KVM set-up in C on one thread");
        return Result.measured(NAME, UNIT, cpu, peerCpu.median(), PEER, GOAL, extra);
    }

    static Sample createOnce(VmManager manager, VmConfig config) throws InterruptedException {
        long process0 = VmThreads.processCpuNanos();
        long creator0 = THREADS.getCurrentThreadCpuTime();
        int id = manager.create(config);
        long creator1 = THREADS.getCurrentThreadCpuTime();
        Vm vm = manager.require(id);
        try {
            awaitFirstMark(vm);
            long process1 = VmThreads.processCpuNanos();
            long vmThreads = VmThreads.cpuNanos(id);
            double wall = vm.bootMarks().getFirst().getValue().toNanos() / 1e6;
            return new Sample((creator1 - creator0 + vmThreads) / 1e6, (creator1 - creator0) / 1e6, (process1 - process0) / 1e6, wall);
        } finally {
            manager.destroy(id);
        }
    }

    /** Waits (sleeping, so the waiting costs next to no CPU) until the guest wrote its boot-timer mark. */
    static void awaitFirstMark(Vm vm) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (vm.bootMarks().isEmpty()) {
            if (!(vm.state() instanceof hg.vmm.VmState.Running)) {
                throw new IllegalStateException("the benchmark guest stopped before its first exit: " + vm.state());
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the benchmark guest made no first exit in 10 s");
            }
            Thread.sleep(0, 200_000);
        }
    }

    /** Runs the C peer: WARMUP unmeasured creates, then RUNS measured; returns {wall ms, CPU ms} each. */
    private static List<double[]> peerRun(Path runner, int warmup, int runs) throws Exception {
        List<String> out = Gcc.run(List.of(runner.toString(), "create", Integer.toString(warmup),
                Integer.toString(runs), Long.toString(MEMORY >> 20)), 120);
        List<double[]> samples = new ArrayList<>();
        for (String line : out) {
            String[] f = line.trim().split("\\s+");
            if (f.length == 3 && f[0].equals("create")) {
                samples.add(new double[] {Long.parseLong(f[1]) / 1e6, Long.parseLong(f[2]) / 1e6});
            }
        }
        if (samples.size() != runs) {
            throw new IllegalStateException("vm_runner create printed " + samples.size() + " of " + runs + " samples: " + out);
        }
        return samples;
    }
}
