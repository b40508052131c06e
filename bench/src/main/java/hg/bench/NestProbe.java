package hg.bench;

import hg.vmm.Console;
import hg.vmm.Vm;
import hg.vmm.VmConfig;
import hg.vmm.VmManager;

import java.io.InputStream;
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
 * One class, no nested classes: it is copied into the nest as a single class file.
 */
public final class NestProbe {
    static final String READY = "hyper-gen guest:";

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
        VmConfig config = VmConfig.of(kernel, image).withReadOnly(true).withCmdline(marker);
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
        }
    }

    static void hyperGen(VmManager manager, VmConfig config, int run, long timeoutMs) {
        StringBuilder seen = new StringBuilder();
        long[] readyAt = {0};
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
            System.out.printf(java.util.Locale.ROOT, "hg-bench boot hyper-gen run=%d console_ms=%.1f marker_ms=%s%n",
                    run, (readyAt[0] - t0) / 1e6, markerMs);
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
            System.out.printf(java.util.Locale.ROOT, "hg-bench boot qemu run=%d console_ms=%.1f%n", run, (readyAt[0] - t0) / 1e6);
        } finally {
            p.destroy();
            if (!p.waitFor(5, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
            }
            reader.join(1000);
        }
    }
}
