package hg.bench;

import hg.vmm.Console;
import hg.vmm.Vm;
import hg.vmm.VmConfig;
import hg.vmm.VmManager;
import hg.vmm.VmState;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * The shared-folder figures, run inside the nest by {@link NestProbe} (copied there beside it): the same guest
 * image mounts a directory of the nest over virtio-9p (the image's start-up script does it, msize 512 KiB on
 * both sides) from hyper-gen's own 9P server and from QEMU's {@code virtio-9p-device} ({@code -fsdev local,
 * security_model=none}), and works on it typed on its console, timed from the typing to the command's marker:
 * <pre>
 * hg-bench share SIDE run=N write_mbps=X read_mbps=Y meta_ops=Z
 * hg-bench share SIDE failed: REASON
 * </pre>
 * write: 64 MiB in 1 MiB blocks with dd, fsync'd; read: the same file back; meta: 1,000 times create, stat
 * and unlink of a file, per second.
 */
final class NestShare {
    static final String TAG = "bench";
    static final int META_FILES = 1000;

    private NestShare() {}

    static void run(Confined vmmSide, VmManager manager, VmConfig base, List<String> qemuCmd, Properties conf,
                    long timeoutMs) throws Exception {
        int runs = Integer.parseInt(conf.getProperty("share_runs"));
        int mib = Integer.parseInt(conf.getProperty("share_mib", "64"));
        Path dir = Path.of(conf.getProperty("share_dir", "/tmp/hg-bench-share"));
        // the metadata loop alone takes about a minute per VM under the nest's TCG
        long shareTimeoutMs = Math.max(timeoutMs, 300_000);
        Thread watchdog = Thread.ofPlatform().daemon().start(NestShare::watch);
        try {
            for (int run = 0; run <= runs; run++) {
                step("hyper-gen " + run);
                int r = run;
                vmmSide.call(() -> {
                    hyperGen(manager, base, dir, r, mib, shareTimeoutMs);
                    return null;
                });
                step("qemu " + run);
                qemu(qemuCmd, dir, run, mib, shareTimeoutMs);
            }
        } finally {
            watchdog.interrupt();
        }
    }

    private static volatile String step = "";
    private static volatile long stepSince = System.nanoTime();

    private static void step(String what) {
        step = what;
        stepSince = System.nanoTime();
    }

    /** A step that outlives every bound above is a stall: its threads' stacks say where, once per step. */
    private static void watch() {
        String dumped = null;
        try {
            while (true) {
                Thread.sleep(30_000);
                String now = step;
                if (!now.equals(dumped) && System.nanoTime() - stepSince > 420_000_000_000L) {
                    dumped = now;
                    StringBuilder b = new StringBuilder("hg-bench share stalled in " + now + ":\n");
                    Thread.getAllStackTraces().forEach((t, stack) -> {
                        b.append("  thread ").append(t.getName()).append(' ').append(t.getState()).append('\n');
                        for (StackTraceElement e : stack) {
                            b.append("    at ").append(e).append('\n');
                        }
                    });
                    System.out.print(b);
                    System.out.flush();
                }
            }
        } catch (InterruptedException done) {
            // the figures are done
        }
    }

    private static void hyperGen(VmManager manager, VmConfig base, Path dir, int run, int mib, long timeoutMs)
            throws Exception {
        fresh(dir);
        int id;
        try {
            id = manager.create(base.withShare(new VmConfig.Share(dir, TAG, false)));
        } catch (RuntimeException e) {
            System.out.println("hg-bench share hyper-gen failed: create: " + e.getMessage());
            return;
        }
        Vm vm = manager.require(id);
        StringBuilder seen = new StringBuilder();
        Console.Attachment a = vm.console().attach(b -> NestVsock.heard(seen, b));
        try {
            measure("hyper-gen", seen, line -> vm.console().input(line.getBytes(StandardCharsets.US_ASCII)),
                    () -> vm.state() instanceof VmState.Running, run, mib, timeoutMs);
        } finally {
            a.close();
            step("destroying hyper-gen's VM " + id);
            manager.destroy(id);
        }
    }

    private static void qemu(List<String> qemuCmd, Path dir, int run, int mib, long timeoutMs) throws Exception {
        fresh(dir);
        List<String> cmd = new ArrayList<>(qemuCmd);
        cmd.addAll(List.of("-fsdev", "local,id=f0,path=" + dir + ",security_model=none",
                "-device", "virtio-9p-device,fsdev=f0,mount_tag=" + TAG));
        StringBuilder seen = new StringBuilder();
        NestQemu qemu = NestQemu.start(cmd, seen);
        try {
            measure("qemu", seen, qemu.keyboard(), qemu.process()::isAlive, run, mib, timeoutMs);
        } finally {
            qemu.stop();
        }
    }

    private static void measure(String side, StringBuilder seen, Consumer<String> type, BooleanSupplier alive, int run,
                                int mib, long timeoutMs) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMs * 1_000_000;
        if (!NestVsock.ready(seen, deadline, alive)) {
            System.out.println("hg-bench share " + side + " failed: the guest did not come up; tail: " + NestVsock.tail(seen));
            return;
        }
        String m = "/mnt/" + TAG;
        double mounted = NestVsock.typed(seen, type, "grep -q ' " + m + " 9p ' /proc/mounts && echo hg-m-$((40+2))",
                "hg-m-42", System.nanoTime() + 30_000_000_000L, alive);
        if (mounted < 0) {
            System.out.println("hg-bench share " + side + " failed: the guest has no " + m + "; tail: " + NestVsock.tail(seen));
            return;
        }
        double write = NestVsock.typed(seen, type, "dd if=/dev/zero of=" + m + "/f bs=1M count=" + mib
                + " conv=fsync 2>/dev/null && echo hg-w-$((" + run + "+1000))", "hg-w-" + (run + 1000), deadline, alive);
        double read = NestVsock.typed(seen, type, "dd if=" + m + "/f of=/dev/null bs=1M 2>/dev/null && echo hg-r-$(("
                + run + "+1000))", "hg-r-" + (run + 1000), deadline, alive);
        double meta = NestVsock.typed(seen, type, "mkdir " + m + "/d && cd " + m + "/d && i=0; while [ $i -lt "
                + META_FILES + " ]; do : > f$i && stat f$i >/dev/null && rm f$i; i=$((i+1)); done; cd /; echo hg-t-$(("
                + run + "+1000))", "hg-t-" + (run + 1000), deadline, alive);
        if (write < 0 || read < 0 || meta < 0) {
            System.out.println("hg-bench share " + side + " failed: a step did not finish; tail: " + NestVsock.tail(seen));
            return;
        }
        System.out.printf(java.util.Locale.ROOT, "hg-bench share %s run=%d write_mbps=%.3f read_mbps=%.3f meta_ops=%.3f%n",
                side, run, mib * 1.048576 / (write / 1e3), mib * 1.048576 / (read / 1e3), META_FILES / (meta / 1e3));
    }

    /**
     * An empty directory for the next VM: each side starts from the same nothing. The directory itself stays:
     * it is a root of the confined side.
     */
    private static void fresh(Path dir) throws IOException {
        Files.createDirectories(dir);
        NestProbe.clearTree(dir);
    }
}
