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
 * VM's own threads' (vCPU and I/O, threads the manager keeps from earlier VMs: only what they
 * used since the create began, the vCPU's up to the return of its first KVM_RUN, where the C
 * runner's count ends too) when the mark has been recorded; the JVM's start-up, the JIT
 * compiler and GC threads are not in it (the process CPU time, which has them, is printed
 * beside). Measured warm: after a few creates in the same JVM (the figure), and again after
 * {@value #STEADY} creates, when the create path is compiled; the first create of the JVM is
 * printed too. Each is broken down by step (the builder's own accounting, {@link
 * hg.vmm.Vm#createSteps()}) beside the C runner's same steps.
 *
 * <p>Peer: vm_runner.c doing the same KVM set-up on one thread for the same guest bytes,
 * process CPU time from KVM_CREATE_VM to the return of the first KVM_RUN.
 */
final class CreateCpu implements Figure {
    static final String NAME = "create_cpu_ms";
    static final String UNIT = "CPU ms";
    static final String PEER = "C KVM runner (gcc -O2), same set-up and guest";
    static final String GOAL = "<= 1.5";
    static final long MEMORY = VmConfig.DEFAULT_MEMORY;
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();

    /**
     * One create: CPU ms of the VM's threads and the creator, process CPU ms, wall ms to the mark; where the CPU
     * went: the creator's steps and each VM thread's share, in ms, in the order taken.
     */
    record Sample(double cpuMs, double creatorMs, double processCpuMs, double wallMs, Map<String, Double> parts) {}

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
        Map<String, Long> peerStepNs = new LinkedHashMap<>();
        // A VMM that has made many VMs runs its create path compiled: the same pairs again after STEADY creates.
        List<Sample> steadyJava = new ArrayList<>();
        List<double[]> steadyPeer = new ArrayList<>();
        Map<String, Long> steadyPeerStepNs = new LinkedHashMap<>();
        // C runners doing more of what hyper-gen does: how much of the gap each part of the difference is.
        Map<LikePeer, PeerRun> likePeers = new LinkedHashMap<>();
        int jvmMappings = 0;
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
                    peer.addAll(peerRun(runner, r == 0 ? warmup : 2, perRound, peerStepNs));
                }
                if (!options.quick()) {
                    int made = 1 + warmup + rounds * perRound;
                    steadyJava.addAll(side.call(() -> {
                        for (int i = made; i < STEADY; i++) {
                            createOnce(manager, config);
                        }
                        List<Sample> round = new ArrayList<>();
                        for (int i = 0; i < perRound * 2; i++) {
                            round.add(createOnce(manager, config));
                        }
                        return round;
                    }));
                    steadyPeer.addAll(peerRun(runner, warmup, perRound * 2, steadyPeerStepNs));
                    jvmMappings = mappings();
                    for (LikePeer like : LikePeer.all(guest, jvmMappings)) {
                        Map<String, Long> stepNs = new LinkedHashMap<>();
                        likePeers.put(like, new PeerRun(peerRun(runner, like, warmup, perRound * 2, stepNs), stepNs));
                    }
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
        Map<String, Object> steps = printSteps("after " + (1 + warmup) + " creates", java, cpu.median(), peerStepNs, peer.size());
        Map<String, Object> extra = new LinkedHashMap<>();
        if (!steadyJava.isEmpty()) {
            Stats steadyCpu = Stats.of(steadyJava.stream().mapToDouble(Sample::cpuMs).toArray());
            Stats steadyPeerCpu = Stats.of(steadyPeer.stream().mapToDouble(s -> s[1]).toArray());
            System.err.printf(Locale.ROOT, "bench: %s: after %d creates: CPU ms hyper-gen %.3f (%.3f..%.3f), C %.3f (%.3f..%.3f),"
                            + " ratio %.2f%n", NAME, STEADY, steadyCpu.median(), steadyCpu.min(), steadyCpu.max(),
                    steadyPeerCpu.median(), steadyPeerCpu.min(), steadyPeerCpu.max(), steadyCpu.median() / steadyPeerCpu.median());
            extra.put("after_" + STEADY + "_creates_cpu_ms", steadyCpu.median());
            extra.put("after_" + STEADY + "_creates_peer_cpu_ms", steadyPeerCpu.median());
            extra.put("after_" + STEADY + "_creates_ratio", steadyCpu.median() / steadyPeerCpu.median());
            extra.put("after_" + STEADY + "_creates_steps_cpu_ms", printSteps("after " + STEADY + " creates", steadyJava,
                    steadyCpu.median(), steadyPeerStepNs, steadyPeer.size()));
            extra.putAll(gapShares(steadyJava, steadyCpu.median(), steadyPeerCpu.median(), likePeers, jvmMappings));
        }
        extra.put("peer_min", peerCpu.min());
        extra.put("peer_max", peerCpu.max());
        extra.put("creator_thread_cpu_ms", creator.median());
        extra.put("process_cpu_ms", process.median());
        extra.put("wall_ms", wall.median());
        extra.put("peer_wall_ms", peerWall.median());
        extra.put("first_create_cpu_ms", cold.cpuMs());
        extra.put("steps_cpu_ms", steps);
        extra.put("note", "hg.vmm VmManager.create of a 256 MiB 1-vCPU VM booting a 15-byte ELF guest to its first"
                + " exit (boot-timer MMIO write); CPU of the creating thread + the VM's vCPU and I/O threads,"
                + " warm JVM, JVM start-up/JIT/GC not included; peer: the same KVM set-up in C on one thread");
        return Result.measured(NAME, UNIT, cpu, peerCpu.median(), PEER, GOAL, extra);
    }

    /**
     * Where the steady gap is: hyper-gen's KVM steps summed (what a VMM of no code of its own would still cost in
     * this process), and hyper-gen against C runners doing more of what it does (this JVM's number of mappings, a
     * hyper-gen VM's devices and threads, both). Printed and returned for results.json: diagnostics, not the figure.
     */
    private static Map<String, Object> gapShares(List<Sample> steadyJava, double cpuMs, double peerCpuMs,
                                                 Map<LikePeer, PeerRun> likePeers, int jvmMappings) {
        double kvmCalls = Stats.of(steadyJava.stream().mapToDouble(s -> KVM_STEPS.stream()
                .mapToDouble(step -> s.parts().getOrDefault(step, 0.0)).sum()).toArray()).median();
        StringBuilder likes = new StringBuilder();
        Map<String, Object> shares = new LinkedHashMap<>();
        shares.put("after_" + STEADY + "_creates_kvm_steps_cpu_ms", kvmCalls);
        shares.put("jvm_mappings", jvmMappings);
        likePeers.forEach((like, run) -> {
            double ms = run.cpuMedian();
            likes.append(String.format(Locale.ROOT, "%n  C runner %-58s %.3f ms (VM fd %.3f), hyper-gen %.2f of it",
                    like.what(), ms, run.stepMs("VM fd"), cpuMs / ms));
            shares.put("peer_" + like.key() + "_cpu_ms", ms);
            shares.put("peer_" + like.key() + "_vm_fd_cpu_ms", run.stepMs("VM fd"));
        });
        System.err.printf(Locale.ROOT, "bench: %s: after %d creates, where the gap is: hyper-gen's KVM steps alone (%s)"
                        + " %.3f ms, %.2f of the C runner's whole create; against C runners doing more of what hyper-gen"
                        + " does:%s%n", NAME, STEADY, String.join(", ", KVM_STEPS), kvmCalls, kvmCalls / peerCpuMs, likes);
        return shares;
    }

    /**
     * A C runner doing more of what hyper-gen does: grown to this JVM's number of mappings (KVM_CREATE_VM locks each
     * mapping of its process), and/or making a hyper-gen VM's devices and threads (vm_runner create-devices).
     */
    private record LikePeer(String what, String key, Path devicesGuest, int mappings) {
        /** The runner as the figure's peer runs: its own mappings, the C runner's own devices. */
        static final LikePeer BARE = new LikePeer("as it is", "bare", null, 0);

        static List<LikePeer> all(Path guest, int jvmMappings) {
            return List.of(
                    new LikePeer("with this JVM's " + jvmMappings + " mappings", "with_jvm_mappings", null, jvmMappings),
                    new LikePeer("making a hyper-gen VM's devices and threads", "with_devices", guest, 0),
                    new LikePeer("with both", "with_devices_and_jvm_mappings", guest, jvmMappings));
        }
    }

    /** A peer's measured creates ({wall ms, CPU ms} each) and its CPU nanoseconds per step, summed over them. */
    private record PeerRun(List<double[]> samples, Map<String, Long> stepNs) {
        double cpuMedian() {
            return Stats.of(samples.stream().mapToDouble(s -> s[1]).toArray()).median();
        }

        double stepMs(String step) {
            return stepNs.getOrDefault(step, 0L) / 1e6 / samples.size();
        }
    }

    /** hyper-gen's create steps that are KVM's work (ioctls and the first KVM_RUN), named as the builder names them. */
    private static final List<String> KVM_STEPS = List.of("VM fd", "memory slots", "irqchip and PIT", "vCPU fd",
            "vCPU CPUID set", "vCPU MSRs", "vCPU LAPIC", "vCPU registers", "vcpu0 thread to the first exit");

    /** This process's mappings: the lines of /proc/self/maps. */
    private static int mappings() throws java.io.IOException {
        try (var lines = java.nio.file.Files.lines(Path.of("/proc/self/maps"))) {
            return (int) lines.count();
        }
    }

    /** How many creates make the "steady" pair: the create path is compiled by then. */
    static final int STEADY = 1500;

    /** Prints the median of each part of {@code samples} beside the C peer's mean of the same step; returns the medians. */
    private static Map<String, Object> printSteps(String when, List<Sample> samples, double total, Map<String, Long> peerStepNs,
                                                  int peerRuns) {
        Map<String, Object> steps = new LinkedHashMap<>();
        StringBuilder shares = new StringBuilder();
        for (String part : samples.getFirst().parts().keySet()) {
            double median = Stats.of(samples.stream().mapToDouble(s -> s.parts().getOrDefault(part, 0.0)).toArray()).median();
            steps.put(part, median);
            Long c = peerStepNs.get(part);
            shares.append(String.format(Locale.ROOT, "%n  %-42s %7.3f ms %5.1f%%   %s", part, median, 100 * median / total,
                    c == null ? "" : String.format(Locale.ROOT, "C %7.3f ms", c / 1e6 / peerRuns)));
        }
        peerStepNs.forEach((part, ns) -> {
            if (!steps.containsKey(part)) {
                shares.append(String.format(Locale.ROOT, "%n  %-42s %23s C %7.3f ms", part, "", ns / 1e6 / peerRuns));
            }
        });
        System.err.printf(Locale.ROOT, "bench: %s: %s, where the CPU goes (hyper-gen: median of each part and its share of"
                + " the median total; C: the mean of the same step):%s%n", NAME, when, shares);
        return steps;
    }

    static Sample createOnce(VmManager manager, VmConfig config) throws InterruptedException {
        Map<Long, Long> baseline = VmThreads.baseline();
        long process0 = VmThreads.processCpuNanos();
        long creator0 = THREADS.getCurrentThreadCpuTime();
        int id = manager.create(config);
        long creator1 = THREADS.getCurrentThreadCpuTime();
        Vm vm = manager.require(id);
        try {
            awaitFirstMark(vm);
            long process1 = VmThreads.processCpuNanos();
            // The vCPU thread goes on after the first exit (its handling, the guest's HLT): counted up to the exit, as in C.
            Map<String, Long> threads = VmThreads.byThread(id, baseline,
                    Map.of("vcpu0", vm.vcpuThreadCpuAtFirstExit().orElseThrow()));
            long vmThreads = threads.values().stream().mapToLong(Long::longValue).sum();
            double wall = vm.bootMarks().getFirst().getValue().toNanos() / 1e6;
            Map<String, Double> parts = new LinkedHashMap<>();
            vm.createSteps().forEach(s -> parts.put(s.name(), s.cpuNanos() / 1e6));
            long stepped = vm.createSteps().stream().mapToLong(hg.vmm.CreateStep::cpuNanos).sum();
            parts.put("before the builder (manager, admission)", Math.max(0, creator1 - creator0 - stepped) / 1e6);
            threads.forEach((name, ns) -> parts.put(name + " thread to the first exit", ns / 1e6));
            return new Sample((creator1 - creator0 + vmThreads) / 1e6, (creator1 - creator0) / 1e6, (process1 - process0) / 1e6,
                    wall, parts);
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

    /**
     * Runs the C peer: WARMUP unmeasured creates, then RUNS measured; returns {wall ms, CPU ms} each and adds the CPU
     * nanoseconds of each step, summed over the measured creates, to {@code stepNs}.
     */
    private static List<double[]> peerRun(Path runner, int warmup, int runs, Map<String, Long> stepNs) throws Exception {
        return peerRun(runner, LikePeer.BARE, warmup, runs, stepNs);
    }

    /** As above, the runner doing what {@code like} says beside. */
    private static List<double[]> peerRun(Path runner, LikePeer like, int warmup, int runs, Map<String, Long> stepNs)
            throws Exception {
        List<String> cmd = new ArrayList<>(List.of(runner.toString(), like.devicesGuest() == null ? "create" : "create-devices",
                Integer.toString(warmup), Integer.toString(runs), Long.toString(MEMORY >> 20)));
        if (like.devicesGuest() != null) {
            cmd.add(like.devicesGuest().toString());
        }
        if (like.mappings() > 0) {
            cmd.add(Integer.toString(like.mappings()));
        }
        List<String> out = Gcc.run(cmd, 120);
        List<double[]> samples = new ArrayList<>();
        for (String line : out) {
            String[] f = line.trim().split("\\s+");
            if (f.length == 3 && f[0].equals("create")) {
                samples.add(new double[] {Long.parseLong(f[1]) / 1e6, Long.parseLong(f[2]) / 1e6});
            }
            String[] step = line.split("\t");
            if (step.length == 2 && step[0].startsWith("step ")) {
                stepNs.merge(step[0].substring("step ".length()), Long.parseLong(step[1].trim()), Long::sum);
            }
        }
        if (samples.size() != runs) {
            throw new IllegalStateException("vm_runner create printed " + samples.size() + " of " + runs + " samples: " + out);
        }
        return samples;
    }
}
