package hg.bench;

import hg.host.GuestAgent;
import hg.host.HostException;
import hg.vmm.Console;
import hg.vmm.Vm;
import hg.vmm.VmConfig;
import hg.vmm.VmManager;
import hg.vmm.VmState;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * The vsock figures, run inside the nest by {@link NestProbe} (copied there beside it, so no nested
 * classes), on a guest whose image has the agent and {@code hg-vsink}:
 * <pre>
 * hg-bench exec hyper-gen run=N exec_ms=X console_ms=Y      (one line per sample)
 * hg-bench vsock hyper-gen run=N vsock_mbps=X tcp_mbps=Y    (one line per run)
 * hg-bench vsock qemu run=N vsock_mbps=X
 * hg-bench KIND SIDE failed: REASON
 * </pre>
 * exec_ms: {@code GuestAgent.exec("/bin/true")} through the VM's hybrid vsock, connection included;
 * console_ms: the same program typed on the serial console ({@code /bin/true; echo MARK}) until the
 * marker's line came back. vsock_mbps and tcp_mbps: {@code hg-vsink send} in the guest writes 64 MiB
 * to the host over AF_VSOCK (to the listener at the VM's socket with its port) and over TCP on
 * virtio-net (to the nest's bridge address); {@code hg-vsink} on the nest's side times each stream
 * from its accept to its end. QEMU: microvm with {@code vhost-vsock-device}, the same guest command
 * to {@code hg-vsink vsock} on the nest's kernel vsock.
 */
final class NestVsock {
    static final String VSOCK_PORT = "5000";
    static final String TCP_PORT = "5202";
    static final int GUEST_CID = 3;
    /** The hyper-gen VM's vsock socket's directory (a root of the confined side). */
    static final Path DIR = Path.of("/tmp/hg-bench-vsock");

    private NestVsock() {}

    static void run(Confined vmmSide, VmManager manager, VmConfig base, List<String> qemuCmd, Properties conf,
                    long timeoutMs) throws Exception {
        Path image = Path.of(conf.getProperty("vsock_image"));
        String sink = conf.getProperty("vsink");
        int runs = Integer.parseInt(conf.getProperty("vsock_runs"));
        int execs = Integer.parseInt(conf.getProperty("exec_count", "50"));
        long bytes = Long.parseLong(conf.getProperty("vsock_bytes", Long.toString(64L << 20)));
        String why = NestProbe.bridge();
        if (why != null) {
            System.out.println("hg-bench vsock hyper-gen failed: " + why);
            return;
        }
        Path dir = Files.createDirectories(DIR);
        Path socket = dir.resolve("vm.vsock");
        VmConfig config = VmConfig.of(base.kernel(), image).withReadOnly(true).withCmdline(base.cmdlineExtra())
                .withNet(true).withVsock(socket);
        vmmSide.call(() -> {
            hyperGen(manager, config, socket, sink, runs, execs, bytes, timeoutMs);
            return null;
        });
        List<String> qemu = new ArrayList<>();
        for (String a : qemuCmd) {
            qemu.add(a.startsWith("file=") ? a.replaceFirst("^file=[^,]*", "file=" + image) : a);
        }
        qemu.addAll(List.of("-device", "vhost-vsock-device,guest-cid=" + GUEST_CID));
        qemu(qemu, sink, runs, bytes, timeoutMs);
    }

    private static void hyperGen(VmManager manager, VmConfig config, Path socket, String sink, int runs, int execs,
                                 long bytes, long timeoutMs) throws Exception {
        int id;
        try {
            id = manager.create(config);
        } catch (RuntimeException e) {
            System.out.println("hg-bench vsock hyper-gen failed: create: " + e.getMessage());
            return;
        }
        Vm vm = manager.require(id);
        StringBuilder seen = new StringBuilder();
        Console.Attachment a = vm.console().attach(b -> heard(seen, b));
        Consumer<String> type = line -> vm.console().input(line.getBytes(StandardCharsets.US_ASCII));
        BooleanSupplier alive = () -> vm.state() instanceof VmState.Running;
        try {
            long deadline = System.nanoTime() + timeoutMs * 1_000_000;
            if (!ready(seen, deadline, alive)) {
                System.out.println("hg-bench vsock hyper-gen failed: the guest did not come up; tail: " + tail(seen));
                return;
            }
            GuestAgent agent = new GuestAgent(id, socket);
            GuestAgent.Command command = new GuestAgent.Command(List.of("/bin/true"), Map.of(), "");
            // Warm-ups first: the JIT, the guest's page cache and the agent's first fork.
            for (int i = 1 - 5; i <= execs; i++) {
                long t0 = System.nanoTime();
                int status = agent.exec(command, null, OutputStream.nullOutputStream(), OutputStream.nullOutputStream(),
                        Duration.ofSeconds(60));
                double execMs = (System.nanoTime() - t0) / 1e6;
                if (status != 0) {
                    System.out.println("hg-bench exec hyper-gen failed: /bin/true exited with " + status);
                    return;
                }
                double consoleMs = typed(seen, type, "/bin/true; echo hg-x-$((" + (i + 5000) + "+1))",
                        "hg-x-" + (i + 5001), System.nanoTime() + timeoutMs * 1_000_000, alive);
                if (consoleMs < 0) {
                    System.out.println("hg-bench exec hyper-gen failed: no answer on the console; tail: " + tail(seen));
                    return;
                }
                System.out.printf(java.util.Locale.ROOT, "hg-bench exec hyper-gen run=%d exec_ms=%.3f console_ms=%.3f%n",
                        i, execMs, consoleMs);
            }
            for (int run = 0; run <= runs; run++) {
                double vsock = stream(seen, type, alive, List.of(sink, "unix", socket + "_" + VSOCK_PORT),
                        "hg-vsink send vsock 2 " + VSOCK_PORT + " " + bytes, bytes, timeoutMs);
                double tcp = stream(seen, type, alive, List.of(sink, "tcp", NestProbe.BRIDGE_ADDRESS, TCP_PORT),
                        "hg-vsink send tcp " + NestProbe.BRIDGE_ADDRESS + " " + TCP_PORT + " " + bytes, bytes, timeoutMs);
                if (vsock < 0 || tcp < 0) {
                    System.out.println("hg-bench vsock hyper-gen failed: a stream did not arrive whole ("
                            + (vsock < 0 ? "vsock" : "tcp") + "); tail: " + tail(seen));
                    return;
                }
                System.out.printf(java.util.Locale.ROOT, "hg-bench vsock hyper-gen run=%d vsock_mbps=%.3f tcp_mbps=%.3f%n",
                        run, vsock, tcp);
            }
        } catch (HostException e) {
            System.out.println("hg-bench exec hyper-gen failed: " + e.getMessage());
        } finally {
            a.close();
            manager.destroy(id);
        }
    }

    private static void qemu(List<String> cmd, String sink, int runs, long bytes, long timeoutMs) throws Exception {
        if (!Files.exists(Path.of("/dev/vhost-vsock"))) {
            System.out.println("hg-bench vsock qemu failed: no /dev/vhost-vsock in the nest (its kernel has no VHOST_VSOCK)");
            return;
        }
        StringBuilder seen = new StringBuilder();
        NestQemu qemu = NestQemu.start(cmd, seen);
        Process p = qemu.process();
        Consumer<String> type = qemu.keyboard();
        try {
            if (!ready(seen, System.nanoTime() + timeoutMs * 1_000_000, p::isAlive)) {
                System.out.println("hg-bench vsock qemu failed: the guest did not come up; tail: " + tail(seen));
                return;
            }
            for (int run = 0; run <= runs; run++) {
                double vsock = stream(seen, type, p::isAlive, List.of(sink, "vsock", VSOCK_PORT),
                        "hg-vsink send vsock 2 " + VSOCK_PORT + " " + bytes, bytes, timeoutMs);
                if (vsock < 0) {
                    System.out.println("hg-bench vsock qemu failed: the stream did not arrive whole; tail: " + tail(seen));
                    return;
                }
                System.out.printf(java.util.Locale.ROOT, "hg-bench vsock qemu run=%d vsock_mbps=%.3f%n", run, vsock);
            }
        } finally {
            qemu.stop();
        }
    }

    /**
     * Starts {@code sinkCmd} in the nest, types {@code guestCmd} on the guest's console once it listens and
     * returns the MB/s the sink timed, or -1 when fewer than {@code bytes} arrived or it failed.
     */
    private static double stream(StringBuilder seen, Consumer<String> type, BooleanSupplier alive, List<String> sinkCmd,
                                 String guestCmd, long bytes, long timeoutMs) throws Exception {
        Process sink = Confined.spawn(new ProcessBuilder(sinkCmd).redirectErrorStream(true));
        try (BufferedReader out = new BufferedReader(new InputStreamReader(sink.getInputStream(), StandardCharsets.US_ASCII))) {
            String first = out.readLine();
            if (first == null || !first.startsWith("hg-vsink listening")) {
                System.out.println("hg-bench vsock sink said: " + first);
                return -1;
            }
            type.accept(guestCmd + "\n");
            String last = out.readLine();
            if (!sink.waitFor(timeoutMs, TimeUnit.MILLISECONDS) || last == null || !last.startsWith("hg-vsink bytes=")) {
                System.out.println("hg-bench vsock sink said: " + last);
                return -1;
            }
            String[] f = last.split("[ =]");
            long got = Long.parseLong(f[2]);
            double ms = Double.parseDouble(f[4]);
            // the guest's shell prompt again, before the next command is typed
            synchronized (seen) {
                waitFor(seen, "# ", Math.max(0, seen.length() - 2), System.nanoTime() + 10_000_000_000L, alive);
            }
            return got == bytes ? bytes / 1e6 / (ms / 1e3) : -1;
        } finally {
            sink.destroyForcibly();
            sink.waitFor(5, TimeUnit.SECONDS);
        }
    }

    /** Types {@code line}, returns the ms until {@code answer} came back, or -1. */
    static double typed(StringBuilder seen, Consumer<String> type, String line, String answer, long deadline,
                                BooleanSupplier alive) throws InterruptedException {
        int from;
        synchronized (seen) {
            from = seen.length();
        }
        long t0 = System.nanoTime();
        // Typed without holding the lock: hyper-gen's UART passes output to the listener while holding its own.
        type.accept(line + "\n");
        synchronized (seen) {
            int at = waitFor(seen, answer + "\r", from, deadline, alive);
            if (at < 0) {
                return -1;
            }
            double ms = (System.nanoTime() - t0) / 1e6;
            waitFor(seen, "# ", at, deadline, alive);
            return ms;
        }
    }

    static boolean ready(StringBuilder seen, long deadline, BooleanSupplier alive) throws InterruptedException {
        synchronized (seen) {
            int at = waitFor(seen, NestProbe.READY, 0, deadline, alive);
            return at >= 0 && waitFor(seen, "# ", at, deadline, alive) >= 0;
        }
    }

    static void heard(StringBuilder seen, byte[] bytes) {
        synchronized (seen) {
            seen.append(new String(bytes, StandardCharsets.ISO_8859_1));
            seen.notifyAll();
        }
    }

    static int waitFor(StringBuilder seen, String text, int from, long deadline, BooleanSupplier alive)
            throws InterruptedException {
        return NestProbe.waitFor(seen, text, from, deadline, alive);
    }

    static String tail(StringBuilder seen) {
        synchronized (seen) {
            return NestProbe.tail(seen);
        }
    }
}
