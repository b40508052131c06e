package hg.bench;

import hg.kvm.GuestMemory;
import hg.kvm.Kvm;
import hg.kvm.Regs;
import hg.kvm.Sregs;
import hg.kvm.VcpuExit;
import hg.kvm.VcpuFd;
import hg.kvm.VmFd;

import java.nio.file.Path;
import java.util.List;

/**
 * exit_round_trip: a real-mode guest loops on {@code out 0x10, al}; each iteration is one PIO
 * exit to user space and back. hyper-gen's run loop (hg.kvm) against a C runner doing the same
 * on the same /dev/kvm; microseconds per exit, runs alternated so machine noise hits both.
 */
final class ExitRoundTrip implements Figure {
    static final String NAME = "exit_round_trip";
    static final String UNIT = "us/exit";
    static final String PEER = "C KVM runner (gcc -O2)";
    static final String GOAL = "<= 1.1";
    private static final int PORT = 0x10;
    private static final long CODE = 0x1000;
    private static final byte[] GUEST = {(byte) 0xe6, PORT, (byte) 0xeb, (byte) 0xfc}; // out 0x10, al; jmp -4
    private static final long WARMUP = 30_000;
    private static final com.sun.management.ThreadMXBean ALLOCATION =
            (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
    /** Heap bytes the timed loop of the last Java run allocated per exit (goal: 0). */
    static double lastAllocatedPerExit;

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
        double calibrateUs = peerRun(runner, 1_000, 20_000);
        long exits = Math.max(10_000, (long) (options.secondsPerRun() * 1e6 / calibrateUs));
        double[] javaUs = new double[options.runs()];
        double[] c = new double[options.runs()];
        for (int i = 0; i < options.runs(); i++) {
            javaUs[i] = javaRun(exits);
            c[i] = peerRun(runner, WARMUP, exits);
        }
        Stats j = Stats.of(javaUs);
        Stats p = Stats.of(c);
        System.err.printf(java.util.Locale.ROOT, "bench: %s: %d exits per run, C %.3f..%.3f us/exit,"
                        + " Java loop allocated %.2f bytes/exit%n", NAME, exits, p.min(), p.max(), lastAllocatedPerExit);
        return new Result(NAME, UNIT, j.median(), p.median(), PEER, GOAL, j.runs(), j.min(), j.max(), null);
    }

    private static double peerRun(Path runner, long warmup, long exits) throws Exception {
        List<String> out = Gcc.run(List.of(runner.toString(), Long.toString(warmup), Long.toString(exits)), 600);
        for (String line : out) {
            if (line.startsWith("ns ")) {
                return Long.parseLong(line.substring(3).trim()) / 1000.0 / exits;
            }
        }
        throw new IllegalStateException("exit_runner printed no time: " + out);
    }

    /** One timed run in a fresh VM: microseconds per exit. */
    static double javaRun(long exits) {
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
            long a0 = ALLOCATION.getCurrentThreadAllocatedBytes();
            long t0 = System.nanoTime();
            loop(vcpu, exits);
            long t1 = System.nanoTime();
            lastAllocatedPerExit = (double) (ALLOCATION.getCurrentThreadAllocatedBytes() - a0) / exits;
            return (t1 - t0) / 1000.0 / exits;
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
