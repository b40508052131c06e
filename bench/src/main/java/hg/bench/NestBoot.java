package hg.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPOutputStream;

/**
 * boot_to_init: launch to the guest's init, the same vmlinux and rootfs image, hyper-gen vs
 * QEMU {@code -M microvm -accel kvm}, both on the nest's /dev/kvm (the boot image running under
 * QEMU TCG with an emulated SVM CPU, started by bootimage/up.sh). The bench appends to a copy
 * of the boot image's initramfs: {@link NestProbe} (run by the image's kvm self-test hook),
 * this machine's qemu-system-x86_64 with its libraries and microvm firmware, the guest vmlinux
 * (build/kernels/guest-vmlinux, else the image's embedded one) and the default busybox rootfs
 * made by hg.imagetools. Endpoint on both sides: the rootfs
 * start-up script's first console line, printed just after its boot marker; hyper-gen's own
 * boot-timer record of the marker is reported beside it ("marker_ms").
 */
final class NestBoot implements Figure {
    static final String NAME = "boot_to_init";
    static final String UNIT = "ms launch to init (nest)";
    static final String PEER = "QEMU -M microvm -accel kvm in the same nest";
    static final String GOAL = "<= 0.8";
    private static final Pattern LINE = Pattern.compile(
            "hg-bench boot (hyper-gen|qemu) run=(-?\\d+) console_ms=([0-9.]+)(?: marker_ms=([0-9.]+|none))?");
    private static final Pattern FAILED = Pattern.compile("hg-bench boot (\\S+) failed: (.*)");
    /** The boot image's embedded guest kernel, used when this checkout has no built guest vmlinux. */
    private static final String EMBEDDED_KERNEL = "/usr/share/hyper-gen/kernels/vmlinux-6.1";
    private static final String NEST_KERNEL = "/opt/hg-bench/vmlinux";
    private static final String NEST_IMAGE = "/opt/hg-bench/rootfs.ext4";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Result measure(Options options) throws Exception {
        Path root = Path.of(System.getenv().getOrDefault("HG_ROOT", ".")).toAbsolutePath().normalize();
        Path image = Path.of(System.getenv().getOrDefault("HG_BOOT_IMAGE", root.resolve("build/boot-image").toString()));
        Path up = root.resolve("bootimage/up.sh");
        if (!Files.isRegularFile(image.resolve("initramfs.img")) || !Files.isRegularFile(image.resolve("bzImage"))) {
            return Result.unmeasured(NAME, UNIT, PEER, GOAL, "no boot image in " + image + " (run ./hg build)");
        }
        if (!Files.isExecutable(up)) {
            return Result.unmeasured(NAME, UNIT, PEER, GOAL, "no " + up + " to start the nest");
        }
        Path qemu = RootfsBuild.which("qemu-system-x86_64");
        if (qemu == null) {
            return Result.unmeasured(NAME, UNIT, PEER, GOAL, "qemu-system-x86_64 is not installed");
        }
        int runs = options.quick() ? 2 : 5;
        Path work = options.out().resolve("nest").toAbsolutePath();
        Files.createDirectories(work);
        Path kernels = Path.of(System.getenv().getOrDefault("HG_KERNELS", root.resolve("build/kernels").toString()));
        Path kernel = kernels.resolve("guest-vmlinux");
        Path rootfs = work.resolve("rootfs.ext4");
        RootfsBuild.defaultRootfsImage(work, rootfs);
        Path initrd = extraInitrd(image.resolve("initramfs.img"), qemu, Files.isRegularFile(kernel) ? kernel : null,
                rootfs, work, runs);
        List<String> out = runNest(up, image, initrd, work.resolve("nest-serial.log"), 300 + runs * 120);

        List<Double> hg = new ArrayList<>(), peer = new ArrayList<>(), marker = new ArrayList<>();
        List<String> failures = new ArrayList<>();
        for (String line : out) {
            Matcher m = LINE.matcher(line);
            if (m.find()) {
                if (Integer.parseInt(m.group(2)) <= 0) {
                    continue; // warm-up
                }
                double ms = Double.parseDouble(m.group(3));
                if (m.group(1).equals("qemu")) {
                    peer.add(ms);
                } else {
                    hg.add(ms);
                    if (m.group(4) != null && !m.group(4).equals("none")) {
                        marker.add(Double.parseDouble(m.group(4)));
                    }
                }
                continue;
            }
            Matcher f = FAILED.matcher(line);
            if (f.find()) {
                failures.add(f.group(1) + ": " + f.group(2).strip());
            }
        }
        if (hg.isEmpty() || peer.isEmpty()) {
            String why = failures.isEmpty()
                    ? "the nest gave no boot times (serial log: " + work.resolve("nest-serial.log") + "; last lines: "
                            + String.join(" | ", out.subList(Math.max(0, out.size() - 8), out.size())) + ")"
                    : String.join("; ", new LinkedHashSet<>(failures));
            if (why.length() > 700) {
                why = why.substring(0, 700) + "...";
            }
            return Result.unmeasured(NAME, UNIT, PEER, GOAL, why);
        }
        Stats h = Stats.of(hg.stream().mapToDouble(Double::doubleValue).toArray());
        Stats p = Stats.of(peer.stream().mapToDouble(Double::doubleValue).toArray());
        System.err.printf(Locale.ROOT, "bench: %s: %d/%d runs; hyper-gen %.1f ms (%.1f..%.1f), QEMU %.1f ms (%.1f..%.1f)%n",
                NAME, h.runs(), p.runs(), h.median(), h.min(), h.max(), p.median(), p.min(), p.max());
        Map<String, Object> extra = new LinkedHashMap<>();
        extra.put("peer_min", p.min());
        extra.put("peer_max", p.max());
        if (!marker.isEmpty()) {
            extra.put("marker_ms", Stats.of(marker.stream().mapToDouble(Double::doubleValue).toArray()).median());
        }
        extra.put("note", "in the nest (boot image under QEMU TCG, emulated SVM): guest vmlinux + default busybox"
                + " rootfs read-only, 256 MiB, 1 vCPU; hyper-gen: VmManager.create in a running JVM; QEMU: process"
                + " launch; both until the rootfs script's console line after its boot marker");
        return Result.measured(NAME, UNIT, h, p.median(), PEER, GOAL, extra);
    }

    /** The boot image's initramfs plus a second gzip'd cpio with the probe, QEMU and its files. */
    static Path extraInitrd(Path base, Path qemu, Path kernel, Path rootfs, Path work, int runs) throws Exception {
        Path stage = work.resolve("stage");
        RootfsBuild.deleteTree(stage);
        Set<String> entries = new LinkedHashSet<>();
        // the probe, as the kvm self-test hook expects it
        String cls = "hg/bench/NestProbe.class";
        try (InputStream in = NestBoot.class.getResourceAsStream("/" + cls)) {
            if (in == null) {
                throw new IOException("the bench jar has no " + cls);
            }
            put(stage, entries, "opt/hg-selftest/" + cls, in.readAllBytes());
        }
        put(stage, entries, "opt/hg-selftest/main", (NestProbe.class.getName() + "\n").getBytes(StandardCharsets.UTF_8));
        if (kernel != null) {
            copy(stage, entries, kernel.toRealPath(), NEST_KERNEL.substring(1));
        }
        copy(stage, entries, rootfs, NEST_IMAGE.substring(1));
        String conf = "kernel=" + (kernel != null ? NEST_KERNEL : EMBEDDED_KERNEL) + "\nimage=" + NEST_IMAGE + "\nqemu=/usr/bin/qemu-system-x86_64\n"
                + "qemu_data=/usr/share/qemu\nruns=" + runs + "\nwarmup=2\ntimeout_ms=120000\n";
        put(stage, entries, "opt/hg-selftest/bench.conf", conf.getBytes(StandardCharsets.UTF_8));
        // QEMU, its shared libraries at their own paths, and the microvm firmware
        Path realQemu = qemu.toRealPath();
        copy(stage, entries, realQemu, "usr/bin/qemu-system-x86_64");
        for (String lib : ldd(realQemu)) {
            copy(stage, entries, Path.of(lib).toRealPath(), lib.substring(1));
        }
        for (String rom : List.of("bios-microvm.bin", "qboot.rom", "pvh.bin", "linuxboot_dma.bin", "linuxboot.bin")) {
            Path file = Path.of("/usr/share/qemu", rom);
            if (Files.exists(file)) {
                copy(stage, entries, file.toRealPath(), "usr/share/qemu/" + rom);
            }
        }

        Path archive = work.resolve("extra.cpio");
        Process cpio = new ProcessBuilder("cpio", "-o", "-H", "newc", "-R", "0:0", "--quiet")
                .directory(stage.toFile()).redirectOutput(archive.toFile()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try (OutputStream o = cpio.getOutputStream()) {
            o.write((String.join("\n", entries) + "\n").getBytes(StandardCharsets.UTF_8));
        }
        if (!cpio.waitFor(120, TimeUnit.SECONDS) || cpio.exitValue() != 0) {
            cpio.destroyForcibly();
            throw new IOException("cpio failed making the nest's extra initramfs");
        }
        Path out = work.resolve("initramfs-bench.img");
        Files.copy(base, out, StandardCopyOption.REPLACE_EXISTING);
        try (OutputStream o = new GZIPOutputStream(Files.newOutputStream(out, StandardOpenOption.APPEND))) {
            Files.copy(archive, o);
        }
        RootfsBuild.deleteTree(stage);
        Files.delete(archive);
        return out;
    }

    private static void put(Path stage, Set<String> entries, String name, byte[] bytes) throws IOException {
        parents(entries, name);
        Path p = stage.resolve(name);
        Files.createDirectories(p.getParent());
        Files.write(p, bytes);
        entries.add(name);
    }

    private static void copy(Path stage, Set<String> entries, Path from, String name) throws IOException {
        parents(entries, name);
        Path p = stage.resolve(name);
        Files.createDirectories(p.getParent());
        Files.copy(from, p, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.COPY_ATTRIBUTES);
        entries.add(name);
    }

    /** The kernel's cpio unpacker makes no missing parent directories: list each one first. */
    private static void parents(Set<String> entries, String name) {
        int i = 0;
        while ((i = name.indexOf('/', i + 1)) > 0) {
            entries.add(name.substring(0, i));
        }
    }

    /** Absolute paths of the shared libraries (and loader) {@code binary} needs. */
    static List<String> ldd(Path binary) throws Exception {
        List<String> libs = new ArrayList<>();
        for (String line : Gcc.run(List.of("ldd", binary.toString()), 60)) {
            String[] f = line.trim().split("\\s+");
            String path = f.length >= 3 && f[1].equals("=>") ? f[2] : f[0];
            if (path.startsWith("/")) {
                libs.add(path);
            }
        }
        return libs;
    }

    /** Boots the nest with the self-test hook, returns its serial output lines (also kept in {@code log}). */
    static List<String> runNest(Path up, Path image, Path initrd, Path log, int timeoutSeconds) throws Exception {
        List<String> cmd = List.of(up.toString(), "--initrd", initrd.toString(), "--append", "hg_selftest=kvm",
                "--timeout", Integer.toString(timeoutSeconds));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("HG_BOOT_IMAGE", image.toString());
        Process p = pb.start();
        p.getOutputStream().close();
        try {
            if (!p.waitFor(timeoutSeconds + 30L, TimeUnit.SECONDS)) {
                throw new IOException("the nest did not finish in " + timeoutSeconds + " s (log " + log + ")");
            }
        } finally {
            // up.sh runs timeout(1), which runs QEMU: stop all of them, by pid
            List<ProcessHandle> tree = new ArrayList<>(p.descendants().toList());
            tree.add(p.toHandle());
            tree.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
        }
        return Files.readAllLines(log, StandardCharsets.ISO_8859_1);
    }
}
