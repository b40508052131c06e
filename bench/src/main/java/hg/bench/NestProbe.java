package hg.bench;

import hg.kvm.net.HostNetwork;
import hg.vmm.Console;
import hg.vmm.GuestCmdline;
import hg.vmm.Vm;
import hg.vmm.VmConfig;
import hg.vmm.VmManager;

import java.io.InputStream;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * Runs inside the nest (the boot image under QEMU), started by the boot image's kvm self-test
 * from an initramfs the bench appends: boots the same guest vmlinux and rootfs image with
 * hyper-gen (hg.vmm, in this JVM) and with QEMU microvm on the nest's /dev/kvm, in turns, and
 * prints one line per boot for the bench to parse:
 * <pre>
 * hg-bench boot hyper-gen run=N console_ms=X marker_ms=Y
 * hg-bench boot qemu run=N console_ms=X
 * hg-bench boot SIDE failed: REASON
 * </pre>
 * console_ms: from "create" (hyper-gen: {@code VmManager.create}; QEMU: starting its process)
 * until the guest's rootfs start-up script printed its line on the serial console (just after
 * its boot marker); marker_ms: hyper-gen's own boot-timer record of the marker, from create.
 * Then, when bench.conf asks for them, guest benchmarks typed on each VM's console (blk: a
 * writable disk; net: a network card on the bridge {@value #BRIDGE}, QEMU's on a TAP of its own,
 * talking to the server this probe starts on the bridge's address), one line per VM:
 * <pre>
 * hg-bench KIND SIDE run=N key=value ...     (KIND blk or net; runs up to 0 are warm-ups)
 * hg-bench KIND SIDE failed: REASON
 * </pre>
 * One class, no nested classes: it is copied into the nest as a single class file.
 */
public final class NestProbe {
    static final String READY = "hyper-gen guest:";
    /** The bridge and address hyper-gen gives its VMs' TAPs (hg.vmm's defaults). */
    static final String BRIDGE = "hgbr0";
    static final String BRIDGE_ADDRESS = "172.30.0.1";
    static final int PREFIX_LENGTH = 16;
    static final String NET_PORT = "5201";
    /** The QEMU guest's place on the same bridge: far from the addresses of hyper-gen's VM ids. */
    static final String QEMU_TAP = "hgqemu0";
    static final String QEMU_GUEST_ADDRESS = "172.30.1.1";
    static final String QEMU_MAC = "02:68:71:00:00:01";

    private NestProbe() {}

    public static void main(String[] args) throws Exception {
        Properties conf = new Properties();
        try (InputStream in = Files.newInputStream(Path.of(args.length > 0 ? args[0] : "/opt/hg-selftest/bench.conf"))) {
            conf.load(in);
        }
        Path kernel = Path.of(conf.getProperty("kernel"));
        Path image = Path.of(conf.getProperty("image"));
        Path qemu = Path.of(conf.getProperty("qemu"));
        int runs = Integer.parseInt(conf.getProperty("runs", "3"));
        int warmup = Integer.parseInt(conf.getProperty("warmup", "2"));
        long timeoutMs = Long.parseLong(conf.getProperty("timeout_ms", "120000"));
        String marker = "hg_boot_marker=0x" + Long.toHexString(Vm.BOOT_TIMER_ADDRESS);
        for (Path p : List.of(kernel, image, qemu)) {
            if (!Files.exists(p)) {
                System.out.println("hg-bench boot setup failed: no " + p + " in the nest");
                return;
            }
        }
        VmConfig config = VmConfig.of(kernel, image).withReadOnly(true);
        // hyper-gen's own cmdline names its boot timer for the rootfs' init; older builds did not
        if (!GuestCmdline.of(config, List.of()).contains("hg_boot_marker=")) {
            config = config.withCmdline(marker);
        }
        List<String> qemuCmd = List.of(qemu.toString(), "-no-user-config", "-nodefaults", "-no-reboot",
                "-L", conf.getProperty("qemu_data", "/usr/share/qemu"),
                "-M", "microvm,acpi=off", "-accel", "kvm", "-cpu", "host", "-m", Long.toString(config.memoryBytes() >> 20),
                "-smp", "1", "-display", "none", "-serial", "stdio", "-kernel", kernel.toString(),
                "-append", "console=ttyS0 reboot=t panic=-1 root=/dev/vda ro " + marker,
                "-drive", "file=" + image + ",format=raw,if=none,id=d0,readonly=on", "-device", "virtio-blk-device,drive=d0");
        try (VmManager manager = new VmManager()) {
            // runs up to 0 are warm-ups on both sides (the JIT, in a nest under TCG, is slow to settle),
            // printed but not counted
            for (int run = 1 - warmup; run <= runs; run++) {
                hyperGen(manager, config, run, timeoutMs);
                qemu(qemuCmd, run, timeoutMs);
            }
            String blkCommand = conf.getProperty("blk_command");
            int blkRuns = Integer.parseInt(conf.getProperty("blk_runs", "0"));
            VmConfig rw = config.withReadOnly(false);
            List<String> qemuRw = qemuCmd.stream()
                    .map(a -> a.replace(",readonly=on", "").replace("root=/dev/vda ro ", "root=/dev/vda rw ")).toList();
            for (int run = 1; blkCommand != null && run <= blkRuns; run++) {
                guestHyperGen("blk", manager, rw, blkCommand, run, timeoutMs);
                guestQemu("blk", qemuRw, null, blkCommand, run, timeoutMs);
            }
            String netCommand = conf.getProperty("net_command");
            int netRuns = Integer.parseInt(conf.getProperty("net_runs", "0"));
            if (netCommand != null && netRuns > 0) {
                net(manager, config.withNet(true), qemuCmd, conf, netRuns, timeoutMs);
            }
        }
    }

    /**
     * The net figures: the bridge hyper-gen uses (made here if missing), the server on its
     * address, then in turns a hyper-gen VM with a network card and QEMU with a TAP that this
     * probe plugs into the same bridge, each running the client on its console. Runs up to 0
     * are warm-ups.
     */
    static void net(VmManager manager, VmConfig config, List<String> qemuCmd, Properties conf, int runs, long timeoutMs)
            throws Exception {
        try (HostNetwork host = HostNetwork.open()) {
            host.ensureBridge(BRIDGE, new byte[] {0x02, 0x68, 0x67, (byte) 0xff, 0x00, 0x01}, (Inet4Address) InetAddress.getByName(BRIDGE_ADDRESS), PREFIX_LENGTH);
        } catch (RuntimeException e) {
            System.out.println("hg-bench net setup failed: bridge " + BRIDGE + ": " + e.getMessage());
            return;
        }
        List<String> qemuNet = new java.util.ArrayList<>();
        for (String a : qemuCmd) {
            qemuNet.add(a.startsWith("console=") ? a + " ip=" + QEMU_GUEST_ADDRESS + "::" + BRIDGE_ADDRESS
                    + ":255.255.0.0::eth0:off" : a);
        }
        // The peer gets vhost-net whenever hyper-gen's cards can have it: the same kernel data path on both sides.
        String vhost = java.nio.file.Files.exists(java.nio.file.Path.of("/dev/vhost-net")) ? "on" : "off";
        System.out.println("hg-bench net qemu vhost=" + vhost);
        qemuNet.addAll(List.of("-netdev", "tap,id=n0,ifname=" + QEMU_TAP + ",script=no,downscript=no,vhost=" + vhost,
                "-device", "virtio-net-device,netdev=n0,mac=" + QEMU_MAC));
        Process server = new ProcessBuilder(conf.getProperty("net_server"), "server", BRIDGE_ADDRESS, NET_PORT)
                .redirectErrorStream(true).start();
        try {
            java.io.BufferedReader out = new java.io.BufferedReader(
                    new java.io.InputStreamReader(server.getInputStream(), StandardCharsets.ISO_8859_1));
            String first = out.readLine();
            if (first == null || !first.startsWith("hg-net listening")) {
                System.out.println("hg-bench net setup failed: the server said " + first);
                return;
            }
            Thread.ofPlatform().daemon().start(() -> {
                try {
                    out.transferTo(java.io.Writer.nullWriter());
                } catch (java.io.IOException ignored) {
                    // the server was stopped
                }
            });
            int warmup = Integer.parseInt(conf.getProperty("net_warmup", "0"));
            long netTimeoutMs = Long.parseLong(conf.getProperty("net_timeout_ms", Long.toString(timeoutMs)));
            String command = conf.getProperty("net_command");
            for (int run = 1 - warmup; run <= runs; run++) {
                guestHyperGen("net", manager, config, command, run, netTimeoutMs);
                guestQemu("net", qemuNet, QEMU_TAP, command, run, netTimeoutMs);
            }
        } finally {
            server.destroy();
            if (!server.waitFor(5, TimeUnit.SECONDS)) {
                server.destroyForcibly();
                server.waitFor(5, TimeUnit.SECONDS);
            }
        }
    }

    /**
     * Waits until QEMU has made its TAP, then plugs it into the bridge and brings it up; returns
     * null, or why it could not.
     */
    static String plug(String tap, Process qemu, long deadline) throws InterruptedException {
        try (HostNetwork host = HostNetwork.open()) {
            while (!host.exists(tap)) {
                if (System.nanoTime() > deadline || !qemu.isAlive()) {
                    return "QEMU made no TAP " + tap;
                }
                Thread.sleep(20);
            }
            host.attach(BRIDGE, tap);
            host.setUp(tap, true);
            return null;
        } catch (RuntimeException e) {
            return "plugging " + tap + " into " + BRIDGE + ": " + e.getMessage();
        }
    }

    /**
     * Boots hyper-gen, runs the guest benchmark {@code command} on its console, prints its figures
     * as an "hg-bench KIND" line.
     */
    static void guestHyperGen(String kind, VmManager manager, VmConfig config, String command, int run, long timeoutMs) {
        StringBuilder seen = new StringBuilder();
        int id;
        try {
            id = manager.create(config);
        } catch (RuntimeException e) {
            System.out.println("hg-bench " + kind + " hyper-gen failed: create: " + e.getMessage());
            return;
        }
        Vm vm = manager.require(id);
        Console.Attachment a = vm.console().attach(bytes -> {
            synchronized (seen) {
                seen.append(new String(bytes, StandardCharsets.ISO_8859_1));
                seen.notifyAll();
            }
        });
        try {
            long deadline = System.nanoTime() + timeoutMs * 1_000_000;
            String out = converse(seen, line -> vm.console().input(line.getBytes(StandardCharsets.US_ASCII)), command,
                    kind, deadline, () -> vm.state() instanceof hg.vmm.VmState.Running);
            vm.info().net().ifPresent(n -> System.out.println("hg-bench " + kind + " hyper-gen data path " + n.dataPath()));
            report(kind, "hyper-gen", run, out);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            a.close();
            manager.destroy(id);
        }
    }

    /** As {@link #guestHyperGen}, with QEMU; {@code tap}, when not null, is QEMU's TAP to plug into the bridge. */
    static void guestQemu(String kind, List<String> cmd, String tap, String command, int run, long timeoutMs)
            throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        StringBuilder seen = new StringBuilder();
        Thread reader = Thread.ofPlatform().daemon().start(() -> {
            byte[] buf = new byte[4096];
            try (InputStream in = p.getInputStream()) {
                int n;
                while ((n = in.read(buf)) > 0) {
                    synchronized (seen) {
                        seen.append(new String(buf, 0, n, StandardCharsets.ISO_8859_1));
                        seen.notifyAll();
                    }
                }
            } catch (java.io.IOException ignored) {
                // QEMU was stopped
            }
        });
        try {
            long deadline = System.nanoTime() + timeoutMs * 1_000_000;
            String unplugged = tap == null ? null : plug(tap, p, deadline);
            if (unplugged != null) {
                System.out.println("hg-bench " + kind + " qemu failed: " + unplugged);
                return;
            }
            String out = converse(seen, line -> {
                try {
                    p.getOutputStream().write(line.getBytes(StandardCharsets.US_ASCII));
                    p.getOutputStream().flush();
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }, command, kind, deadline, p::isAlive);
            report(kind, "qemu", run, out);
        } finally {
            p.destroy();
            if (!p.waitFor(5, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
            }
            reader.join(1000);
        }
    }

    /**
     * Waits for the guest's shell prompt after its start-up line, types {@code command}, waits for
     * "hg-KIND done" or "hg-KIND error"; returns the console text from the command on, or an
     * explanation starting with "failed:".
     */
    static String converse(StringBuilder seen, java.util.function.Consumer<String> type, String command, String kind,
                           long deadline, java.util.function.BooleanSupplier alive) throws InterruptedException {
        int from;
        synchronized (seen) {
            int ready = waitFor(seen, READY, 0, deadline, alive);
            if (ready < 0) {
                return "failed: no '" + READY + "' on the console; tail: " + tail(seen);
            }
            if (waitFor(seen, "# ", ready, deadline, alive) < 0) {
                return "failed: no shell prompt; tail: " + tail(seen);
            }
            from = seen.length();
        }
        // Typed without holding the lock: hyper-gen's UART passes output to the listener (which takes
        // this lock) while holding its own lock, which input needs too.
        type.accept(command + "\n");
        synchronized (seen) {
            int end = -1;
            while (end < 0 && System.nanoTime() < deadline && alive.getAsBoolean()) {
                if (seen.indexOf("hg-" + kind + " done", from) >= 0 || seen.indexOf("hg-" + kind + " error", from) >= 0) {
                    end = seen.length();
                } else {
                    seen.wait(100);
                }
            }
            if (end < 0) {
                return "failed: the guest's " + kind + " benchmark did not finish; tail: " + tail(seen);
            }
            // let the rest of the last line arrive
            seen.wait(200);
            return seen.substring(from);
        }
    }

    private static int waitFor(StringBuilder seen, String text, int from, long deadline, java.util.function.BooleanSupplier alive)
            throws InterruptedException {
        int at;
        while ((at = seen.indexOf(text, from)) < 0) {
            if (System.nanoTime() > deadline || !alive.getAsBoolean()) {
                return -1;
            }
            seen.wait(100);
        }
        return at + text.length();
    }

    private static String tail(StringBuilder seen) {
        return seen.substring(Math.max(0, seen.length() - 600)).replaceAll("[\\r\\n]+", " | ");
    }

    /** Prints "hg-bench KIND SIDE run=N key=value..." from the guest's "hg-KIND key value" lines. */
    private static void report(String kind, String side, int run, String out) {
        if (out.startsWith("failed:")) {
            System.out.println("hg-bench " + kind + " " + side + " failed: " + out.substring(7).strip());
            return;
        }
        String prefix = "hg-" + kind + " ";
        StringBuilder line = new StringBuilder("hg-bench " + kind + " " + side + " run=" + run);
        for (String l : out.split("[\\r\\n]+")) {
            String t = l.strip();
            if (t.startsWith(prefix + "error")) {
                System.out.println("hg-bench " + kind + " " + side + " failed: " + t);
                return;
            }
            if (t.startsWith(prefix) && !t.equals(prefix + "done") && t.split(" ").length == 3) {
                String[] f = t.split(" ");
                line.append(' ').append(f[1]).append('=').append(f[2]);
            }
        }
        System.out.println(line);
    }

    static void hyperGen(VmManager manager, VmConfig config, int run, long timeoutMs) {
        StringBuilder seen = new StringBuilder();
        long[] readyAt = {0};
        long[] cpuAt = {0};
        long cpu0 = cpuMs("self");
        long t0 = System.nanoTime();
        int id;
        try {
            id = manager.create(config);
        } catch (RuntimeException e) {
            System.out.println("hg-bench boot hyper-gen failed: create: " + e.getMessage());
            return;
        }
        Vm vm = manager.require(id);
        Console.Attachment a = vm.console().attach(bytes -> {
            synchronized (seen) {
                seen.append(new String(bytes, StandardCharsets.ISO_8859_1));
                if (readyAt[0] == 0 && seen.indexOf(READY) >= 0) {
                    readyAt[0] = System.nanoTime();
                    cpuAt[0] = cpuMs("self");
                    seen.notifyAll();
                }
            }
        });
        try {
            long deadline = System.nanoTime() + timeoutMs * 1_000_000;
            synchronized (seen) {
                while (readyAt[0] == 0 && System.nanoTime() < deadline && vm.state() instanceof hg.vmm.VmState.Running) {
                    seen.wait(100);
                }
            }
            if (readyAt[0] == 0) {
                String tail = new String(vm.console().history(), StandardCharsets.ISO_8859_1);
                tail = tail.substring(Math.max(0, tail.length() - 600)).replaceAll("[\\r\\n]+", " | ");
                System.out.println("hg-bench boot hyper-gen failed: no '" + READY + "' on the console (state " + vm.state()
                        + "); console tail: " + tail);
                return;
            }
            List<Map.Entry<Long, java.time.Duration>> marks = vm.bootMarks();
            String markerMs = marks.isEmpty() ? "none" : String.format(java.util.Locale.ROOT, "%.1f",
                    marks.getFirst().getValue().toNanos() / 1e6);
            System.out.printf(java.util.Locale.ROOT, "hg-bench boot hyper-gen run=%d console_ms=%.1f marker_ms=%s cpu_ms=%d%n",
                    run, (readyAt[0] - t0) / 1e6, markerMs, cpuAt[0] - cpu0);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            a.close();
            manager.destroy(id);
        }
    }

    static void qemu(List<String> cmd, int run, long timeoutMs) throws Exception {
        long t0 = System.nanoTime();
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        long[] readyAt = {0};
        long[] cpuAt = {0};
        StringBuilder seen = new StringBuilder();
        Thread reader = Thread.ofPlatform().daemon().start(() -> {
            byte[] buf = new byte[4096];
            try (InputStream in = p.getInputStream()) {
                int n;
                while ((n = in.read(buf)) > 0) {
                    synchronized (seen) {
                        seen.append(new String(buf, 0, n, StandardCharsets.ISO_8859_1));
                        if (readyAt[0] == 0 && seen.indexOf(READY) >= 0) {
                            readyAt[0] = System.nanoTime();
                            cpuAt[0] = cpuMs(Long.toString(p.pid()));
                            seen.notifyAll();
                        }
                    }
                }
            } catch (java.io.IOException ignored) {
                // QEMU was stopped
            }
        });
        try {
            long deadline = System.nanoTime() + timeoutMs * 1_000_000;
            synchronized (seen) {
                while (readyAt[0] == 0 && System.nanoTime() < deadline && p.isAlive()) {
                    seen.wait(100);
                }
            }
            if (readyAt[0] == 0) {
                String tail;
                synchronized (seen) {
                    tail = seen.substring(Math.max(0, seen.length() - 600)).replaceAll("[\\r\\n]+", " | ");
                }
                System.out.println("hg-bench boot qemu failed: no '" + READY + "' on the console (alive " + p.isAlive()
                        + "); output tail: " + tail);
                return;
            }
            System.out.printf(java.util.Locale.ROOT, "hg-bench boot qemu run=%d console_ms=%.1f cpu_ms=%d%n", run,
                    (readyAt[0] - t0) / 1e6, cpuAt[0]);
        } finally {
            p.destroy();
            if (!p.waitFor(5, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
            }
            reader.join(1000);
        }
    }

    /**
     * CPU ms (user + system, all threads, guest time included: KVM charges it to the vCPU thread)
     * of process {@code pid} ("self" for this JVM) from /proc/PID/stat, in clock ticks of 10 ms.
     */
    static long cpuMs(String pid) {
        try {
            String stat = Files.readString(Path.of("/proc", pid, "stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            // after the command: state(3) ... utime(14) stime(15), numbered from 1 over the whole line
            return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10;
        } catch (java.io.IOException | RuntimeException e) {
            return -1;
        }
    }
}
