package hg.bench;

import hg.kvm.GuestMemory;
import hg.kvm.Kvm;
import hg.kvm.Regs;
import hg.kvm.Sregs;
import hg.kvm.VcpuExit;
import hg.kvm.VcpuFd;
import hg.kvm.VmFd;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * exit_round_trip: a real-mode guest loops on {@code out 0x10, al}; each iteration is one PIO
 * exit to user space and back. hyper-gen's run loop (hg.kvm) against a C runner doing the same
 * on the same /dev/kvm, runs alternated. The figure is the vCPU thread's CPU time per exit
 * (CLOCK_THREAD_CPUTIME_ID on both sides): the exit loop never sleeps, so on an idle machine it
 * equals the wall time, and on a busy one it leaves out the time the thread waited for a core,
 * which otherwise swamps the difference being measured. Wall time is printed beside it.
 */
final class ExitRoundTrip implements Figure {
    static final String NAME = "exit_round_trip";
    static final String UNIT = "us/exit (thread CPU)";
    static final String PEER = "C KVM runner (gcc -O2)";
    static final String GOAL = "<= 1.1";
    private static final int PORT = 0x10;
    private static final long CODE = 0x1000;
    private static final byte[] GUEST = {(byte) 0xe6, PORT, (byte) 0xeb, (byte) 0xfc}; // out 0x10, al; jmp -4
    private static final long WARMUP = 30_000;
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    /** One timed run: wall and thread-CPU microseconds per exit, heap bytes allocated per exit. */
    record Sample(double wallUs, double cpuUs, double allocatedBytes) {}

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Result measure(Options options) throws Exception {
        if (!Kvm.present()) {
            return Result.unmeasured(NAME, UNIT, PEER, GOAL, "/dev/kvm is absent on this host");
        }
        Path runner = Gcc.build("exit_runner.c", options.out().resolve("peers"));
        // Size the runs from the C side so both do the same number of exits, about secondsPerRun each.
        double calibrateUs = peerRun(runner, 1_000, 20_000).wallUs();
        long exits = Math.max(10_000, (long) (options.secondsPerRun() * 1e6 / calibrateUs));
        int runs = options.runs();
        double[] javaWall = new double[runs], javaCpu = new double[runs];
        double[] cWall = new double[runs], cCpu = new double[runs];
        double allocated = 0;
        try (Confined side = Confined.forFigure(NAME, null, null, List.of())) {
            for (int i = 0; i < runs; i++) {
                Sample j = side.call(() -> javaRun(exits));
                Sample c = peerRun(runner, WARMUP, exits);
                javaWall[i] = j.wallUs();
                javaCpu[i] = j.cpuUs();
                allocated = Math.max(allocated, j.allocatedBytes());
                cWall[i] = c.wallUs();
                cCpu[i] = c.cpuUs();
            }
        }
        Stats jw = Stats.of(javaWall), cw = Stats.of(cWall), jc = Stats.of(javaCpu), cc = Stats.of(cCpu);
        System.err.printf(Locale.ROOT, "bench: %s: %d runs of %d exits; thread CPU us/exit Java %.3f (%.3f..%.3f)"
                        + " C %.3f (%.3f..%.3f); wall us/exit Java %.3f (%.3f..%.3f) C %.3f (%.3f..%.3f)"
                        + " ratio %.3f; Java exit loop allocated %.2f bytes/exit%n",
                NAME, runs, exits, jc.median(), jc.min(), jc.max(), cc.median(), cc.min(), cc.max(),
                jw.median(), jw.min(), jw.max(), cw.median(), cw.min(), cw.max(), jw.median() / cw.median(),
                allocated);
        return new Result(NAME, UNIT, jc.median(), cc.median(), PEER, GOAL, jc.runs(), jc.min(), jc.max(), null);
    }

    private static Sample peerRun(Path runner, long warmup, long exits) throws Exception {
        List<String> out = Gcc.run(List.of(runner.toString(), Long.toString(warmup), Long.toString(exits)), 600);
        Double wall = null, cpu = null;
        for (String line : out) {
            if (line.startsWith("ns ")) {
                wall = Long.parseLong(line.substring(3).trim()) / 1000.0 / exits;
            } else if (line.startsWith("cpu_ns ")) {
                cpu = Long.parseLong(line.substring(7).trim()) / 1000.0 / exits;
            }
        }
        if (wall == null || cpu == null) {
            throw new IllegalStateException("exit_runner printed no times: " + out);
        }
        return new Sample(wall, cpu, 0);
    }

    /** One timed run in a fresh VM. */
    static Sample javaRun(long exits) {
        try (Kvm kvm = Kvm.open();
             VmFd vm = kvm.createVm();
             GuestMemory memory = GuestMemory.map(List.of(new GuestMemory.Range(0, 0x10000)))) {
            memory.write(CODE, GUEST);
            vm.registerMemory(memory);
            VcpuFd vcpu = vm.createVcpu(0);
            Sregs s = vcpu.sregs();
            vcpu.setSregs(s.toBuilder().cs(s.cs().withBase(0).withSelector(0)).build());
            vcpu.setRegs(Regs.builder().rip(CODE).build());
            loop(vcpu, WARMUP);
            long a0 = THREADS.getCurrentThreadAllocatedBytes();
            long c0 = THREADS.getCurrentThreadCpuTime();
            long t0 = System.nanoTime();
            loop(vcpu, exits);
            long t1 = System.nanoTime();
            long c1 = THREADS.getCurrentThreadCpuTime();
            long a1 = THREADS.getCurrentThreadAllocatedBytes();
            return new Sample((t1 - t0) / 1000.0 / exits, (c1 - c0) / 1000.0 / exits, (double) (a1 - a0) / exits);
        }
    }

    private static void loop(VcpuFd vcpu, long exits) {
        for (long i = 0; i < exits; i++) {
            if (!(vcpu.run() instanceof VcpuExit.IoOut out) || out.port() != PORT) {
                throw new IllegalStateException("unexpected exit in the benchmark guest");
            }
        }
    }
}
