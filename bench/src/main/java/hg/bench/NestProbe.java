package hg.bench;

import hg.kvm.net.HostNetwork;
import hg.vmm.Console;
import hg.vmm.GuestCmdline;
import hg.vmm.GuestNetwork;
import hg.vmm.MemoryAdmission;
import hg.vmm.SnapshotInfo;
import hg.vmm.Vm;
import hg.vmm.VmConfig;
import hg.vmm.VmManager;
import hg.vmm.VmState;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
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
 * and the snapshot figures (bench.conf's snap_runs, clone_runs), a console command answered after
 * a cold boot, a restore, a clone:
 * <pre>
 * hg-bench snap hyper-gen run=N boot_ms=X restore_ms=Y snapshot_ms=Z memory_data_mib=M restore_call_ms=C
 * hg-bench snap qemu saved boot_ms=X save_ms=Y file_mib=M
 * hg-bench snap qemu run=N restore_ms=Y resumed_ms=R
 * hg-bench clone hyper-gen run=N per_clone_ms=X total_ms=T clone_call_ms=C boot_ms=B parent_kib=P all_kib=A ...
 * </pre>
 * One class, no nested classes: it is copied into the nest as a single class file.
 */
public final class NestProbe {
    static final String READY = "hyper-gen guest:";
    static final BytesMatch READY_MATCH = new BytesMatch(READY);
    /** The bridge and address hyper-gen gives its VMs' TAPs (hg.vmm's defaults). */
    static final String BRIDGE = "hgbr0";
    static final String BRIDGE_ADDRESS = "172.30.0.1";
    static final int PREFIX_LENGTH = 16;
    static final String NET_PORT = "5201";
    /** The QEMU guest's place on the same bridge: far from the addresses of hyper-gen's VM ids. */
    static final String QEMU_TAP = "hgqemu0";
    static final String QEMU_GUEST_ADDRESS = "172.30.1.1";
    static final String QEMU_MAC = "02:68:71:00:00:01";

    /**
     * bench.conf's boot_log: both sides' guests print the kernel's timestamps, and the console of each side's first
     * counted boot is printed (hg-bench bootlog SIDE: LINE), with the CPU each of this JVM's threads used in it, to
     * compare where the boots spend their time.
     */
    static boolean bootLog;

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
        bootLog = conf.getProperty("boot_log", "0").equals("1");
        String timed = bootLog ? " printk.time=1" : "";
        // bench.conf's boot_console (HG_BENCH_BOOT_CONSOLE=ttyS0): hyper-gen's guests on that console instead of
        // its default, to tell what the console device does to a boot from what the rest does
        String console = conf.getProperty("boot_console", "").strip();
        VmConfig plain = VmConfig.of(kernel, image).withReadOnly(true)
                .withCmdline(((console.isEmpty() ? "" : "console=" + console) + timed).strip());
        // hyper-gen's own cmdline names its boot timer for the rootfs' init; older builds did not
        VmConfig config = GuestCmdline.of(plain, List.of()).contains("hg_boot_marker=") ? plain
                : plain.withCmdline(marker + timed);
        List<String> qemuCmd = List.of(qemu.toString(), "-no-user-config", "-nodefaults", "-no-reboot",
                "-L", conf.getProperty("qemu_data", "/usr/share/qemu"),
                "-M", "microvm,acpi=off", "-accel", "kvm", "-cpu", "host", "-m", Long.toString(config.memoryBytes() >> 20),
                "-smp", "1", "-display", "none", "-serial", "stdio", "-kernel", kernel.toString(),
                "-append", "console=ttyS0 reboot=t panic=-1 root=/dev/vda ro " + marker + timed,
                "-drive", "file=" + image + ",format=raw,if=none,id=d0,readonly=on", "-device", "virtio-blk-device,drive=d0");
        Path snapDir = Path.of(conf.getProperty("snap_dir", "/tmp/hg-bench-snap"));
        Path shareDir = Path.of(conf.getProperty("share_dir", "/tmp/hg-bench-share"));
        // As the daemon does before it confines itself: the bridge and the guest filter (nft is a program).
        if (conf.getProperty("net_command") != null || Integer.parseInt(conf.getProperty("vsock_runs", "0")) > 0) {
            GuestNetwork.setUp().forEach(line -> System.out.println("hg-bench note: " + line));
        }
        Confined vmmSide = Confined.start(Confined.roots(kernel.getParent(), image.getParent(),
                List.of(snapDir, shareDir, NestVsock.DIR)));
        System.out.println("hg-bench confinement: " + vmmSide.state());
        VmManager manager = vmmSide.call(VmManager::new);
        try {
            // runs up to 0 are warm-ups on both sides (the JIT, in a nest under TCG, is slow to settle),
            // printed but not counted
            for (int run = 1 - warmup; run <= runs; run++) {
                int r = run;
                vmmSide.run(() -> hyperGen(manager, config, r, timeoutMs));
                qemu(qemuCmd, run, timeoutMs);
            }
            int snapRuns = Integer.parseInt(conf.getProperty("snap_runs", "0"));
            int cloneRuns = Integer.parseInt(conf.getProperty("clone_runs", "0"));
            if (snapRuns > 0) {
                snap(vmmSide, manager, config, qemuCmd, snapDir, Integer.parseInt(conf.getProperty("snap_warmup", "1")), snapRuns,
                        timeoutMs);
            }
            if (cloneRuns > 0) {
                vmmSide.run(() -> clones(config, snapDir, Integer.parseInt(conf.getProperty("clone_count", "10")),
                        Integer.parseInt(conf.getProperty("clone_warmup", "1")), cloneRuns, timeoutMs));
            }
            String blkCommand = conf.getProperty("blk_command");
            int blkRuns = Integer.parseInt(conf.getProperty("blk_runs", "0"));
            // As for the boots: runs up to 0 are warm-ups on both sides (hyper-gen's I/O path is still being compiled
            // under the nest's TCG in its first run, and QEMU's first run has measured at half its later ones)
            int blkWarmup = Integer.parseInt(conf.getProperty("blk_warmup", "0"));
            VmConfig rw = config.withReadOnly(false);
            List<String> qemuRw = qemuCmd.stream()
                    .map(a -> a.replace(",readonly=on", "").replace("root=/dev/vda ro ", "root=/dev/vda rw ")).toList();
            for (int run = 1 - blkWarmup; blkCommand != null && blkRuns > 0 && run <= blkRuns; run++) {
                int r = run;
                vmmSide.run(() -> guestHyperGen("blk", manager, rw, blkCommand, r, timeoutMs));
                guestQemu("blk", qemuRw, null, blkCommand, run, timeoutMs);
            }
            String netCommand = conf.getProperty("net_command");
            int netRuns = Integer.parseInt(conf.getProperty("net_runs", "0"));
            if (netCommand != null && netRuns > 0) {
                net(vmmSide, manager, config.withNet(true), qemuCmd, conf, netRuns, timeoutMs);
            }
            if (Integer.parseInt(conf.getProperty("share_runs", "0")) > 0) {
                NestShare.run(vmmSide, manager, config, qemuCmd, conf, timeoutMs);
            }
            if (Integer.parseInt(conf.getProperty("vsock_runs", "0")) > 0) {
                NestVsock.run(vmmSide, manager, config, qemuCmd, conf, timeoutMs);
            }
            if (Integer.parseInt(conf.getProperty("huge_runs", "0")) > 0) {
                NestHuge.run(vmmSide, manager, config, conf, timeoutMs);
            }
            if (Integer.parseInt(conf.getProperty("density_count", "0")) > 0) {
                NestDensity.run(vmmSide, manager, config, qemuCmd, conf, timeoutMs);
            }
        } finally {
            vmmSide.run(manager::close);
            vmmSide.close();
        }
    }

    /**
     * The net figures: the bridge hyper-gen uses (made here if missing), the server on its
     * address, then in turns a hyper-gen VM with a network card and QEMU with a TAP that this
     * probe plugs into the same bridge, each running the client on its console. Runs up to 0
     * are warm-ups.
     */
    static void net(Confined vmmSide, VmManager manager, VmConfig config, List<String> qemuCmd, Properties conf, int runs, long timeoutMs)
            throws Exception {
        String noBridge = bridge();
        if (noBridge != null) {
            System.out.println("hg-bench net setup failed: " + noBridge);
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
                int r = run;
                vmmSide.run(() -> guestHyperGen("net", manager, config, command, r, netTimeoutMs));
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

    /** Makes the bridge hyper-gen uses, with its address, unless it is there; returns null, or why it could not. */
    static String bridge() throws java.net.UnknownHostException {
        try (HostNetwork host = HostNetwork.open()) {
            host.ensureBridge(BRIDGE, new byte[] {0x02, 0x68, 0x67, (byte) 0xff, 0x00, 0x01},
                    (Inet4Address) InetAddress.getByName(BRIDGE_ADDRESS), PREFIX_LENGTH);
            return null;
        } catch (RuntimeException e) {
            return "bridge " + BRIDGE + ": " + e.getMessage();
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
        guestHyperGen(kind, "hyper-gen", manager, config, command, run, timeoutMs);
    }

    /**
     * As above, the line naming the VM {@code side}; it also gives the VM's boot marker (boot_ms, from
     * create to the rootfs' /init) and says when the VM's memory is on huge pages.
     */
    static void guestHyperGen(String kind, String side, VmManager manager, VmConfig config, String command, int run,
                              long timeoutMs) {
        StringBuilder seen = new StringBuilder();
        int id;
        try {
            id = manager.create(config);
        } catch (RuntimeException e) {
            System.out.println("hg-bench " + kind + " " + side + " failed: create: " + e.getMessage());
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
            vm.info().net().ifPresent(n -> System.out.println("hg-bench " + kind + " " + side + " data path " + n.dataPath()));
            if (!vm.hugePages().isEmpty()) {
                System.out.println("hg-bench " + kind + " " + side + " memory on " + vm.hugePages());
            }
            List<Map.Entry<Long, java.time.Duration>> marks = vm.bootMarks();
            report(kind, side, run, marks.isEmpty() || out.startsWith("failed:") ? out : String.format(java.util.Locale.ROOT,
                    "hg-%s boot_ms %.1f%n", kind, marks.getFirst().getValue().toNanos() / 1e6) + out);
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

    static int waitFor(StringBuilder seen, String text, int from, long deadline, java.util.function.BooleanSupplier alive)
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

    static String tail(StringBuilder seen) {
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

    /** Typed on a VM's console by the snapshot figures; the console's echo of it does not hold its answer. */
    static final String SNAP_COMMAND = "echo hg-snap $((6*7))";
    static final String SNAP_ANSWER = "hg-snap 42";

    /**
     * restore_vs_boot and restore_vs_qemu, in turns: hyper-gen boots the guest cold until it answers
     * {@link #SNAP_COMMAND}, snapshots it with stop into {@code dir} (the nest's RAM), restores it and
     * times it until it answers again; QEMU boots it once and saves it by migrating to a file, then
     * each run is a QEMU started with {@code -incoming} from that file, until it answers. Runs up to
     * 0 are warm-ups.
     */
    static void snap(Confined vmmSide, VmManager manager, VmConfig config, List<String> qemuCmd, Path dir, int warmup, int runs,
                     long timeoutMs) throws Exception {
        Path qemuDir = dir.resolve("qemu");
        Path saved = qemuSave(qemuCmd, qemuDir, timeoutMs);
        for (int run = 1 - warmup; run <= runs; run++) {
            int r = run;
            vmmSide.run(() -> snapHyperGen(manager, config, dir.resolve("hg"), r, timeoutMs));
            if (saved != null) {
                qemuRestore(qemuCmd, qemuDir, saved, run, timeoutMs);
            }
        }
        clearTree(dir);
    }

    static void snapHyperGen(VmManager manager, VmConfig config, Path dir, int run, long timeoutMs) {
        String side = "hg-bench snap hyper-gen";
        deleteTree(dir);
        long deadline = System.nanoTime() + timeoutMs * 1_000_000;
        StringBuilder seen = new StringBuilder();
        long[] state = {-1, 0};
        long t0 = System.nanoTime();
        int id;
        try {
            id = manager.create(config);
        } catch (RuntimeException e) {
            System.out.println(side + " failed: create: " + e);
            return;
        }
        Vm vm = manager.require(id);
        boolean destroyed = false;
        Console.Attachment a = vm.console().attach(b -> heard(seen, state, b));
        try {
            String why = ask(seen, state, line -> vm.console().input(line.getBytes(StandardCharsets.US_ASCII)), true,
                    deadline, () -> vm.state() instanceof VmState.Running);
            if (why != null) {
                System.out.println(side + " failed: boot (state " + vm.state() + "): " + why);
                return;
            }
            double bootMs = (state[1] - t0) / 1e6;
            a.close();
            long s0 = System.nanoTime();
            SnapshotInfo info;
            try {
                info = manager.snapshot(id, dir, true);
            } catch (RuntimeException e) {
                System.out.println(side + " failed: snapshot: " + e);
                return;
            }
            destroyed = true;
            double snapshotMs = (System.nanoTime() - s0) / 1e6;
            StringBuilder again = new StringBuilder();
            long[] state2 = {-1, 0};
            long r0 = System.nanoTime();
            int restored;
            try {
                restored = manager.restore(dir, false);
            } catch (RuntimeException e) {
                System.out.println(side + " failed: restore: " + e);
                return;
            }
            double restoreCallMs = (System.nanoTime() - r0) / 1e6;
            Vm r = manager.require(restored);
            Console.Attachment ra = r.console().attach(b -> heard(again, state2, b));
            try {
                why = ask(again, state2, line -> r.console().input(line.getBytes(StandardCharsets.US_ASCII)), false,
                        System.nanoTime() + timeoutMs * 1_000_000, () -> r.state() instanceof VmState.Running);
                if (why != null) {
                    System.out.println(side + " failed: restored vm (state " + r.state() + "): " + why);
                    return;
                }
                System.out.printf(java.util.Locale.ROOT,
                        "%s run=%d boot_ms=%.1f restore_ms=%.1f snapshot_ms=%.1f memory_data_mib=%.1f restore_call_ms=%.1f%n",
                        side, run, bootMs, (state2[1] - r0) / 1e6, snapshotMs, info.memoryDataBytes() / 1048576.0,
                        restoreCallMs);
            } finally {
                ra.close();
                manager.destroy(restored);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            a.close();
            if (!destroyed) {
                manager.get(id).ifPresent(v -> manager.destroy(id));
            }
            deleteTree(dir);
        }
    }

    /**
     * Boots QEMU until the guest answers {@link #SNAP_COMMAND}, then saves it with QMP's
     * {@code migrate "exec:cat > FILE"} (the guest running: an idle guest's migration ends at
     * once, and its copy resumes by itself); returns the file, or null after printing why not.
     */
    static Path qemuSave(List<String> qemuCmd, Path dir, long timeoutMs) {
        String side = "hg-bench snap qemu";
        Path file = dir.resolve("qemu.migration");
        Path sock = dir.resolve("qmp.sock");
        long deadline = System.nanoTime() + timeoutMs * 1_000_000;
        StringBuilder seen = new StringBuilder();
        long[] state = {-1, 0};
        Process p = null;
        try {
            deleteTree(dir);
            Files.createDirectories(dir);
            List<String> cmd = new ArrayList<>(qemuCmd);
            cmd.addAll(List.of("-qmp", "unix:" + sock + ",server=on,wait=off"));
            long t0 = System.nanoTime();
            p = startQemu(cmd, seen, state, timeoutMs);
            try (SocketChannel ch = qmpOpen(sock, p, deadline)) {
                if (ch == null) {
                    System.out.println(side + " failed: save: no QMP socket; output tail: " + tail(seen));
                    return null;
                }
                BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(ch), StandardCharsets.UTF_8));
                OutputStream out = Channels.newOutputStream(ch);
                StringBuilder events = new StringBuilder();
                qmp(in, out, null, events);
                qmp(in, out, "{\"execute\": \"qmp_capabilities\"}", events);
                String why = ask(seen, state, typer(p), true, deadline, p::isAlive);
                if (why != null) {
                    System.out.println(side + " failed: boot: " + why);
                    return null;
                }
                double bootMs = (state[1] - t0) / 1e6;
                long s0 = System.nanoTime();
                String reply = qmp(in, out, "{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"exec:cat > " + file + "\"}}",
                        events);
                if (reply == null || !reply.contains("\"return\"")) {
                    System.out.println(side + " failed: save: migrate said " + reply);
                    return null;
                }
                while (true) {
                    reply = qmp(in, out, "{\"execute\": \"query-migrate\"}", events);
                    if (reply == null || reply.contains("\"failed\"") || reply.contains("\"cancelled\"")
                            || System.nanoTime() > deadline) {
                        System.out.println(side + " failed: save: query-migrate said " + reply);
                        return null;
                    }
                    if (reply.contains("\"completed\"")) {
                        break;
                    }
                    Thread.sleep(5);
                }
                double saveMs = (System.nanoTime() - s0) / 1e6;
                qmp(in, out, "{\"execute\": \"quit\"}", events);
                p.waitFor(10, TimeUnit.SECONDS);
                System.out.printf(java.util.Locale.ROOT, "%s saved boot_ms=%.1f save_ms=%.1f file_mib=%.1f%n", side, bootMs,
                        saveMs, Files.size(file) / 1048576.0);
                return file;
            }
        } catch (IOException | RuntimeException e) {
            System.out.println(side + " failed: save: " + e + "; output tail: " + tail(seen));
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } finally {
            stop(p);
        }
    }

    /**
     * One QEMU restore: started with {@code -incoming "exec:cat FILE"}, typed to once QMP reports
     * the guest running (the RESUME event, or query-status), timed until the guest answers.
     */
    static void qemuRestore(List<String> qemuCmd, Path dir, Path file, int run, long timeoutMs) {
        String side = "hg-bench snap qemu";
        Path sock = dir.resolve("qmp.sock");
        long deadline = System.nanoTime() + timeoutMs * 1_000_000;
        StringBuilder seen = new StringBuilder();
        long[] state = {-1, 0};
        Process p = null;
        try {
            Files.deleteIfExists(sock);
            List<String> cmd = new ArrayList<>(qemuCmd);
            cmd.addAll(List.of("-qmp", "unix:" + sock + ",server=on,wait=off", "-incoming", "exec:cat " + file));
            long t0 = System.nanoTime();
            p = startQemu(cmd, seen, state, timeoutMs);
            try (SocketChannel ch = qmpOpen(sock, p, deadline)) {
                if (ch == null) {
                    System.out.println(side + " failed: restore: no QMP socket; output tail: " + tail(seen));
                    return;
                }
                BufferedReader in = new BufferedReader(new InputStreamReader(Channels.newInputStream(ch), StandardCharsets.UTF_8));
                OutputStream out = Channels.newOutputStream(ch);
                StringBuilder events = new StringBuilder();
                qmp(in, out, null, events);
                qmp(in, out, "{\"execute\": \"qmp_capabilities\"}", events);
                // Events come only after the negotiation: a RESUME before it shows in query-status instead.
                String status = qmp(in, out, "{\"execute\": \"query-status\"}", events);
                boolean running = status != null && status.contains("\"status\": \"running\"");
                while (!running && events.indexOf("\"RESUME\"") < 0) {
                    if (qmp(in, out, null, events) == null) {
                        System.out.println(side + " failed: restore: QEMU never ran the guest (query-status " + status
                                + ", events " + events.toString().replace('\n', ' ') + "); output tail: " + tail(seen));
                        return;
                    }
                }
                double resumedMs = (System.nanoTime() - t0) / 1e6;
                String why = ask(seen, state, typer(p), false, deadline, p::isAlive);
                if (why != null) {
                    System.out.println(side + " failed: restored guest: " + why);
                    return;
                }
                System.out.printf(java.util.Locale.ROOT, "%s run=%d restore_ms=%.1f resumed_ms=%.1f%n", side, run,
                        (state[1] - t0) / 1e6, resumedMs);
                qmp(in, out, "{\"execute\": \"quit\"}", events);
                p.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (IOException | RuntimeException e) {
            System.out.println(side + " failed: restore: " + e + "; output tail: " + tail(seen));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            stop(p);
        }
    }

    /** Starts QEMU with its output read into {@code seen} (see {@link #heard}); it is killed after {@code timeoutMs}. */
    static Process startQemu(List<String> cmd, StringBuilder seen, long[] state, long timeoutMs) throws IOException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        Thread.ofPlatform().daemon().start(() -> {
            byte[] buf = new byte[4096];
            try (InputStream in = p.getInputStream()) {
                int n;
                while ((n = in.read(buf)) > 0) {
                    heard(seen, state, java.util.Arrays.copyOf(buf, n));
                }
            } catch (IOException ignored) {
                // QEMU was stopped
            }
        });
        // Bounds every blocking QMP read too: QEMU's end closes the socket.
        Thread.ofPlatform().daemon().start(() -> {
            try {
                if (!p.waitFor(timeoutMs, TimeUnit.MILLISECONDS)) {
                    p.destroyForcibly();
                }
            } catch (InterruptedException ignored) {
                p.destroyForcibly();
            }
        });
        return p;
    }

    static java.util.function.Consumer<String> typer(Process p) {
        return line -> {
            try {
                p.getOutputStream().write(line.getBytes(StandardCharsets.US_ASCII));
                p.getOutputStream().flush();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        };
    }

    static void stop(Process p) {
        if (p == null) {
            return;
        }
        p.destroy();
        try {
            if (!p.waitFor(5, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    /** Connects to QEMU's QMP socket once QEMU has made it; null when QEMU ended or the deadline passed first. */
    static SocketChannel qmpOpen(Path sock, Process p, long deadline) throws InterruptedException {
        while (System.nanoTime() < deadline && p.isAlive()) {
            if (Files.exists(sock)) {
                try {
                    return SocketChannel.open(UnixDomainSocketAddress.of(sock));
                } catch (IOException notListeningYet) {
                    // made but not yet listening
                }
            }
            Thread.sleep(2);
        }
        return null;
    }

    /**
     * Sends {@code json} (none when null) and returns the next line that is not an event (events
     * read meanwhile go to {@code events}); with no command, returns the next line of any kind.
     * Null when QEMU closed the socket.
     */
    static String qmp(BufferedReader in, OutputStream out, String json, StringBuilder events) throws IOException {
        if (json != null) {
            out.write((json + "\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
        }
        String line;
        while ((line = in.readLine()) != null) {
            if (line.contains("\"event\"")) {
                events.append(line).append('\n');
                if (json == null) {
                    return line;
                }
                continue;
            }
            return line;
        }
        return null;
    }

    /**
     * Console output of a VM into {@code seen}; the first {@link #SNAP_ANSWER} after the typing
     * point {@code state[0]} (-1 before typing) has its time put in {@code state[1]}.
     */
    static void heard(StringBuilder seen, long[] state, byte[] bytes) {
        synchronized (seen) {
            seen.append(new String(bytes, StandardCharsets.ISO_8859_1));
            if (state[0] >= 0 && state[1] == 0
                    && endsWithin(seen, SNAP_ANSWER, bytes.length, (int) state[0])) {
                state[1] = System.nanoTime();
            }
            seen.notifyAll();
        }
    }

    /**
     * With {@code boot}, waits for the guest's start-up line and shell prompt first; then types
     * {@link #SNAP_COMMAND} and waits for its answer (timed by {@link #heard}). Returns null, or why not.
     */
    static String ask(StringBuilder seen, long[] state, java.util.function.Consumer<String> type, boolean boot,
                      long deadline, java.util.function.BooleanSupplier alive) throws InterruptedException {
        synchronized (seen) {
            if (boot) {
                int ready = waitFor(seen, READY, 0, deadline, alive);
                if (ready < 0) {
                    return "no '" + READY + "' on the console; tail: " + tail(seen);
                }
                if (waitFor(seen, "# ", ready, deadline, alive) < 0) {
                    return "no shell prompt; tail: " + tail(seen);
                }
            }
            state[0] = seen.length();
        }
        // not under the lock: see converse
        type.accept(SNAP_COMMAND + "\n");
        return answered(seen, state, deadline, alive);
    }

    static String answered(StringBuilder seen, long[] state, long deadline, java.util.function.BooleanSupplier alive)
            throws InterruptedException {
        synchronized (seen) {
            while (state[1] == 0) {
                if (System.nanoTime() > deadline || !alive.getAsBoolean()) {
                    return "no '" + SNAP_ANSWER + "' after the command (alive " + alive.getAsBoolean() + "); tail: "
                            + tail(seen);
                }
                seen.wait(100);
            }
            return null;
        }
    }

    /**
     * clone_ms and clone_mem_ratio: a parent booted cold until it answers, then
     * {@code VmManager.clone(parent, count)} with each clone answering {@link #SNAP_COMMAND}; the
     * nest's MemAvailable before the parent, with the parent alone and with its clones too, and
     * where the memory went (this JVM's smaps). Runs up to 0 are warm-ups.
     */
    static void clones(VmConfig config, Path dir, int count, int warmup, int runs, long timeoutMs) {
        // 1 + count guests of 256 MiB each are promised more than the nest's 3 GiB: clones share
        // their parent's pages, which is what is measured, so this manager overcommits.
        try (VmManager manager = new VmManager(MemoryAdmission.forThisProcess(), true)) {
            Path cloneDir = dir.resolve("clones");
            manager.cloneDirectory(cloneDir);
            for (int run = 1 - warmup; run <= runs; run++) {
                released(dir);
                cloneRun(manager, config, cloneDir, count, run, timeoutMs);
            }
        }
        clearTree(dir);
    }

    static void cloneRun(VmManager manager, VmConfig config, Path cloneDir, int count, int run, long timeoutMs) {
        String side = "hg-bench clone hyper-gen";
        long deadline = System.nanoTime() + timeoutMs * 1_000_000;
        List<Integer> clones = new ArrayList<>();
        List<Console.Attachment> attached = new ArrayList<>();
        int id = -1;
        try {
            settle();
            long avail0 = meminfoKib("/proc/meminfo", "MemAvailable:");
            long shmem0 = meminfoKib("/proc/meminfo", "Shmem:");
            long[] rss0 = rss();
            StringBuilder seen = new StringBuilder();
            long[] state = {-1, 0};
            long t0 = System.nanoTime();
            id = manager.create(config);
            Vm parent = manager.require(id);
            attached.add(parent.console().attach(b -> heard(seen, state, b)));
            String why = ask(seen, state, line -> parent.console().input(line.getBytes(StandardCharsets.US_ASCII)), true,
                    deadline, () -> parent.state() instanceof VmState.Running);
            if (why != null) {
                System.out.println(side + " failed: parent boot (state " + parent.state() + "): " + why);
                return;
            }
            double bootMs = (state[1] - t0) / 1e6;
            settle();
            long avail1 = meminfoKib("/proc/meminfo", "MemAvailable:");
            long[] rss1 = rss();
            boolean smaps = Files.exists(Path.of("/proc/self/smaps"));
            List<long[]> before = smaps ? mappings(null) : List.of();
            long c0 = System.nanoTime();
            try {
                clones.addAll(manager.clone(id, count));
            } catch (RuntimeException e) {
                System.out.println(side + " failed: clone: " + e);
                return;
            }
            double callMs = (System.nanoTime() - c0) / 1e6;
            StringBuilder[] heardBy = new StringBuilder[count];
            long[][] states = new long[count][];
            for (int i = 0; i < count; i++) {
                StringBuilder s = new StringBuilder();
                long[] st = {-1, 0};
                heardBy[i] = s;
                states[i] = st;
                Vm c = manager.require(clones.get(i));
                attached.add(c.console().attach(b -> heard(s, st, b)));
                synchronized (s) {
                    st[0] = s.length();
                }
                c.console().input((SNAP_COMMAND + "\n").getBytes(StandardCharsets.US_ASCII));
            }
            long last = 0;
            for (int i = 0; i < count; i++) {
                Vm c = manager.require(clones.get(i));
                why = answered(heardBy[i], states[i], deadline, () -> c.state() instanceof VmState.Running);
                if (why != null) {
                    System.out.println(side + " failed: clone " + (i + 1) + " of " + count + " (vm " + c.id() + ", state "
                            + c.state() + "): " + why);
                    return;
                }
                last = Math.max(last, states[i][1]);
            }
            double totalMs = (last - c0) / 1e6;
            settle();
            long avail2 = meminfoKib("/proc/meminfo", "MemAvailable:");
            long shmem2 = meminfoKib("/proc/meminfo", "Shmem:");
            long[] rss2 = rss();
            long parentKib = avail0 - avail1;
            long allKib = avail0 - avail2;
            StringBuilder line = new StringBuilder(String.format(java.util.Locale.ROOT,
                    "%s run=%d per_clone_ms=%.1f total_ms=%.1f clone_call_ms=%.1f boot_ms=%.1f parent_kib=%d all_kib=%d"
                            + " mem_ratio=%.3f parent_rss_kib=%d frozen_shmem_kib=%d frozen_mappings=%d anon_kib=%d"
                            + " shmem_rss_kib=%d",
                    side, run, totalMs / count, totalMs, callMs, bootMs, parentKib, allKib,
                    parentKib > 0 ? (double) allKib / parentKib : 0.0, rss1[0] - rss0[0], shmem2 - shmem0,
                    frozenMapCount(cloneDir), rss2[1] - rss0[1], rss2[3] - rss0[3]));
            if (smaps) {
                long[] frozen = frozenMappings(cloneDir, before);
                line.append(String.format(java.util.Locale.ROOT,
                        " parent_private_dirty_kib=%d clones_private_dirty_kib=%d clones_rss_kib=%d", frozen[1], frozen[2],
                        frozen[3]));
            }
            System.out.println(line);
        } catch (IOException | RuntimeException e) {
            System.out.println(side + " failed: " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            attached.forEach(Console.Attachment::close);
            for (int c : clones) {
                manager.get(c).ifPresent(v -> manager.destroy(v.id()));
            }
            if (id > 0) {
                manager.get(id).ifPresent(v -> manager.destroy(v.id()));
            }
        }
    }

    /**
     * This JVM's {VmRSS, RssAnon, RssFile, RssShmem} in kB (/proc/self/status): where smaps is
     * missing (a kernel without CONFIG_PROC_PAGE_MONITOR, as the nest's), written guest pages
     * show as RssAnon and the pages of a frozen memory file on tmpfs as RssShmem.
     */
    static long[] rss() throws IOException {
        String[] keys = {"VmRSS:", "RssAnon:", "RssFile:", "RssShmem:"};
        long[] out = new long[keys.length];
        for (int i = 0; i < keys.length; i++) {
            out[i] = meminfoKib("/proc/self/status", keys[i]);
        }
        return out;
    }

    /** How many of this JVM's mappings (/proc/self/maps) are of files under {@code dir}. */
    static long frozenMapCount(Path dir) throws IOException {
        return Files.readAllLines(Path.of("/proc/self/maps"), StandardCharsets.ISO_8859_1).stream()
                .filter(l -> l.contains(" " + dir + "/")).count();
    }

    /**
     * Waits (up to 30 s) until no mapping of this JVM and no file under {@code dir} is left from
     * earlier VMs: a destroyed VM lets its memory go on its own threads, and a frozen file on
     * tmpfs holds its RAM until its last mapping is gone, which would shift the next baseline.
     */
    static void released(Path dir) {
        long deadline = System.nanoTime() + 30_000_000_000L;
        try {
            while (System.nanoTime() < deadline) {
                boolean files;
                try (java.util.stream.Stream<Path> all = Files.exists(dir) ? Files.walk(dir) : java.util.stream.Stream.empty()) {
                    files = all.anyMatch(Files::isRegularFile);
                }
                if (!files && frozenMapCount(dir) == 0) {
                    return;
                }
                Thread.sleep(100);
            }
            System.out.println("hg-bench clone note: memory under " + dir + " still held after 30 s");
        } catch (IOException e) {
            System.out.println("hg-bench clone note: " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Lets this JVM's garbage go and the guests' threads settle before memory is read. */
    static void settle() throws InterruptedException {
        System.gc();
        Thread.sleep(500);
    }

    /** A "Key: N kB" field of /proc/meminfo or /proc/self/status, in kB. */
    static long meminfoKib(String file, String key) throws IOException {
        for (String line : Files.readAllLines(Path.of(file))) {
            if (line.startsWith(key)) {
                return Long.parseLong(line.substring(key.length()).trim().split("\\s+")[0]);
            }
        }
        throw new IOException("no " + key + " in " + file);
    }

    /**
     * This JVM's mappings as {start, end, Rss kB, Private_Dirty kB} from /proc/self/smaps, those of
     * files under {@code under} only (all when null).
     */
    static List<long[]> mappings(Path under) throws IOException {
        List<long[]> out = new ArrayList<>();
        long[] current = null;
        for (String line : Files.readAllLines(Path.of("/proc/self/smaps"), StandardCharsets.ISO_8859_1)) {
            String[] f = line.trim().split("\\s+");
            int dash = f[0].indexOf('-');
            if (dash > 0 && f.length >= 5 && f[0].substring(0, dash).matches("[0-9a-f]+")) {
                String path = f.length >= 6 ? line.substring(line.indexOf(f[5], line.indexOf(f[4]) + f[4].length())) : "";
                current = null;
                if (under == null || path.startsWith(under.toString())) {
                    current = new long[] {Long.parseUnsignedLong(f[0].substring(0, dash), 16),
                            Long.parseUnsignedLong(f[0].substring(dash + 1), 16), 0, 0};
                    out.add(current);
                }
            } else if (current != null && f[0].equals("Rss:")) {
                current[2] = Long.parseLong(f[1]);
            } else if (current != null && f[0].equals("Private_Dirty:")) {
                current[3] = Long.parseLong(f[1]);
            }
        }
        return out;
    }

    /**
     * Where smaps exists, the mappings of the clones' frozen memory file: {count, the parent's private dirty kB, the
     * clones' private dirty kB, the clones' Rss kB}. The parent's are those at addresses it had
     * before the clone call: its guest memory is remapped over the file in place.
     */
    static long[] frozenMappings(Path cloneDir, List<long[]> before) throws IOException {
        long[] out = new long[4];
        for (long[] m : mappings(cloneDir)) {
            out[0]++;
            boolean parent = before.stream().anyMatch(b -> b[0] <= m[0] && m[1] <= b[1]);
            if (parent) {
                out[1] += m[3];
            } else {
                out[2] += m[3];
                out[3] += m[2];
            }
        }
        return out;
    }

    /**
     * Empties {@code dir} and keeps it: the confined side's Landlock rule is on the directory itself, and
     * one made again at the same path would be outside it.
     */
    static void clearTree(Path dir) {
        if (!Files.isDirectory(dir)) {
            return;
        }
        try (java.util.stream.Stream<Path> files = Files.list(dir)) {
            files.forEach(NestProbe::deleteTree);
        } catch (IOException e) {
            System.out.println("hg-bench note: cannot empty " + dir + ": " + e);
        }
    }

    static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (java.util.stream.Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            System.out.println("hg-bench snap note: cannot remove " + dir + ": " + e);
        }
    }

    static void hyperGen(VmManager manager, VmConfig config, int run, long timeoutMs) {
        StringBuilder seen = new StringBuilder();
        long[] readyAt = {0};
        long[] cpuAt = {0};
        long cpu0 = cpuMs("self");
        Map<String, Long> threads0 = bootLog && run == 1 ? threadCpuMs() : Map.of();
        long t0 = System.nanoTime();
        int id;
        try {
            id = manager.create(config);
        } catch (RuntimeException e) {
            System.out.println("hg-bench boot hyper-gen failed: create: " + e.getMessage());
            return;
        }
        Vm vm = manager.require(id);
        // The listener runs on the guest's vCPU thread, whose CPU is hyper-gen's figure (QEMU's console is read by a
        // thread of this probe, outside QEMU's process): it only steps a matcher over the bytes, and keeps them only
        // for the boot log.
        boolean keep = bootLog && run == 1;
        int[] matched = {0};
        Console.Attachment a = vm.console().attach(bytes -> {
            if (readyAt[0] != 0) {
                return;
            }
            if (keep) {
                synchronized (seen) {
                    seen.append(new String(bytes, StandardCharsets.ISO_8859_1));
                }
            }
            for (byte b : bytes) {
                matched[0] = READY_MATCH.step(matched[0], b);
                if (matched[0] == READY_MATCH.length()) {
                    synchronized (seen) {
                        readyAt[0] = System.nanoTime();
                        cpuAt[0] = cpuMs("self");
                        seen.notifyAll();
                    }
                    return;
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
            System.out.printf(java.util.Locale.ROOT, "hg-bench boot hyper-gen run=%d console_ms=%.1f marker_ms=%s cpu_ms=%d exits=%d%n",
                    run, (readyAt[0] - t0) / 1e6, markerMs, cpuAt[0] - cpu0, vm.counters().vcpuExits());
            printBootLog("hyper-gen", run, seen);
            if (bootLog && run == 1) {
                threadCpuMs().forEach((tid, ms) -> {
                    long used = ms - threads0.getOrDefault(tid, 0L);
                    if (used > 0) {
                        System.out.println("hg-bench bootlog hyper-gen thread " + threadName(tid) + " cpu_ms=" + used);
                    }
                });
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            a.close();
            manager.destroy(id);
        }
    }

    /**
     * Whether {@code text} is in {@code seen} where its last {@code added} characters could have completed it.
     * A console listener runs on the guest's vCPU thread: a search of the whole console on every byte would
     * stall the guest for longer the more it wrote.
     */
    static boolean endsWithin(StringBuilder seen, String text, int added) {
        return endsWithin(seen, text, added, 0);
    }

    /** {@link #endsWithin(StringBuilder, String, int)}, counting only what starts at {@code from} or later. */
    static boolean endsWithin(StringBuilder seen, String text, int added, int from) {
        return seen.indexOf(text, Math.max(from, seen.length() - added - text.length())) >= 0;
    }

    /** With bench.conf's boot_log, the console up to the ready line of a side's boot, a line each. */
    static void printBootLog(String side, int run, StringBuilder seen) {
        if (!bootLog || run != 1) {
            return;
        }
        synchronized (seen) {
            for (String line : seen.toString().split("\r?\n")) {
                System.out.println("hg-bench bootlog " + side + ": " + line.strip());
            }
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
                        if (readyAt[0] == 0 && endsWithin(seen, READY, n)) {
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
            printBootLog("qemu", run, seen);
        } finally {
            p.destroy();
            if (!p.waitFor(5, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
            }
            reader.join(1000);
        }
    }

    /** CPU ms of this process's threads so far, by thread id (a VM's threads are kept and renamed for the next VM). */
    static Map<String, Long> threadCpuMs() {
        Map<String, Long> byTid = new java.util.TreeMap<>();
        try (java.util.stream.Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
            tasks.forEach(t -> byTid.put(t.getFileName().toString(), cpuMs("self/task/" + t.getFileName())));
        } catch (java.io.IOException e) {
            // no /proc: nothing to show
        }
        return byTid;
    }

    /** Thread {@code tid}'s name now, and its id. */
    static String threadName(String tid) {
        try {
            return Files.readString(Path.of("/proc/self/task", tid, "comm")).strip() + "/" + tid;
        } catch (java.io.IOException e) {
            return "(ended)/" + tid;
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
