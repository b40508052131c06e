package hg.bench;

import hg.imagetools.Content;
import hg.imagetools.Ext4Image;
import hg.imagetools.Ext4ImageWriter;
import hg.imagetools.FsTree;
import hg.imagetools.Meta;
import hg.imagetools.Node;
import hg.imagetools.Rootfs;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPOutputStream;

/**
 * One run of the nest for all the figures measured in it (boot_to_init, blk_*, net_*, restore_*,
 * clone_*): the boot image under QEMU TCG with an emulated SVM CPU (bootimage/up.sh), its initramfs extended with
 * {@link NestProbe} (run by the image's kvm self-test hook), this machine's qemu-system-x86_64
 * with its libraries and microvm firmware, the guest vmlinux (build/kernels/guest-vmlinux, else
 * the image's embedded one) and the default busybox rootfs made by hg.imagetools with the static
 * guest benchmarks (blkbench.c, netbench.c) added; the image file is longer than its file system,
 * and the blk benchmark writes only past it. netbench.c also goes into the nest itself, as the
 * server. Run once per bench run, with only the parts the selected figures need; its serial
 * output is kept.
 */
final class Nest {
    /** The nest's serial lines and where its files are, or why it could not run. */
    record Outcome(List<String> lines, Path work, String why) {}

    static final String EMBEDDED_KERNEL = "/usr/share/hyper-gen/kernels/vmlinux-6.1";
    static final String NEST_KERNEL = "/opt/hg-bench/vmlinux";
    static final String NEST_IMAGE = "/opt/hg-bench/rootfs.ext4";
    /** netbench.c's server side, run by the probe on the nest's bridge. */
    static final String NEST_NETBENCH = "/opt/hg-bench/hg-netbench";
    /** The vsock figures' guest image (the agent and hg-vsink in it) and the sink on the nest's side. */
    static final String NEST_VSOCK_IMAGE = "/opt/hg-bench/rootfs-agent.ext4";
    static final String NEST_VSINK = "/opt/hg-bench/hg-vsink";
    /**
     * Bound of one net run, boot included: under TCG on a busy machine a round trip can take
     * milliseconds, and the client caps its round trips at 20 s and a stalled connection at 30 s.
     */
    static final int NET_TIMEOUT_MS = 300_000;
    static final long MIB = 1 << 20;
    /** The guest benchmark's region past the file system. */
    static final int BLK_REGION_MIB = 64;
    /** The density figures' guests, and the nest memory that admits them all (hyper-gen counts each in full). */
    static final int DENSITY_VMS = 50;
    static final int DENSITY_NEST_MIB = 6144;

    private static Outcome cached;

    private Nest() {}

    static synchronized Outcome run(Options options) throws Exception {
        if (cached == null) {
            cached = start(options);
        }
        return cached;
    }

    private static Outcome start(Options options) throws Exception {
        Path root = Path.of(System.getenv().getOrDefault("HG_ROOT", ".")).toAbsolutePath().normalize();
        Path image = Path.of(System.getenv().getOrDefault("HG_BOOT_IMAGE", root.resolve("build/boot-image").toString()));
        Path up = root.resolve("bootimage/up.sh");
        Path work = options.out().resolve("nest").toAbsolutePath();
        if (!Files.isRegularFile(image.resolve("initramfs.img")) || !Files.isRegularFile(image.resolve("bzImage"))) {
            return new Outcome(List.of(), work, "no boot image in " + image + " (run ./hg build)");
        }
        if (!Files.isExecutable(up)) {
            return new Outcome(List.of(), work, "no " + up + " to start the nest");
        }
        Path qemu = RootfsBuild.which("qemu-system-x86_64");
        if (qemu == null) {
            return new Outcome(List.of(), work, "qemu-system-x86_64 is not installed");
        }
        Files.createDirectories(work);
        // only the parts of the nest run that the selected figures need
        boolean boot = options.wants(NestBoot.NAME);
        boolean blk = NestGuest.blk().stream().anyMatch(f -> options.wants(f.name()));
        boolean net = NestGuest.net().stream().anyMatch(f -> options.wants(f.name()));
        boolean snap = options.wants(NestSnap.RESTORE_VS_BOOT) || options.wants(NestSnap.RESTORE_VS_QEMU);
        boolean clone = options.wants(NestSnap.CLONE_MS) || options.wants(NestSnap.CLONE_MEM_RATIO);
        boolean vsock = NestSnap.vsock().stream().anyMatch(f -> options.wants(f.name()));
        boolean share = NestGuest.share().stream().anyMatch(f -> options.wants(f.name()));
        boolean huge = NestGuest.huge().stream().anyMatch(f -> options.wants(f.name()));
        boolean density = NestGuest.density().stream().anyMatch(f -> options.wants(f.name()));
        int bootRuns = !boot ? 0 : options.quick() ? 2 : 5;
        int blkRuns = !blk ? 0 : options.quick() ? 1 : 3;
        int netRuns = !net ? 0 : options.quick() ? 2 : 5;
        int snapRuns = !snap ? 0 : options.quick() ? 2 : 5;
        int cloneRuns = !clone ? 0 : options.quick() ? 1 : 3;
        int vsockRuns = !vsock ? 0 : options.quick() ? 1 : 3;
        int shareRuns = !share ? 0 : options.quick() ? 1 : 3;
        int hugeRuns = !huge ? 0 : options.quick() ? 2 : 5;
        int densityCount = !density ? 0 : options.quick() ? 10 : DENSITY_VMS;
        Path kernels = Path.of(System.getenv().getOrDefault("HG_KERNELS", root.resolve("build/kernels").toString()));
        Path kernel = kernels.resolve("guest-vmlinux");
        Path rootfs = work.resolve("rootfs.ext4");
        Path netbench = Gcc.buildStatic("netbench.c", work);
        long offsetMib = guestImage(work, rootfs, Map.of("usr/bin/hg-blkbench", Gcc.buildStatic("blkbench.c", work),
                "usr/bin/hg-netbench", netbench, "usr/bin/hg-memtouch", Gcc.buildStatic("memtouch.c", work)));
        Path vsink = Gcc.buildStatic("vsink.c", work);
        Map<String, Path> nestFiles = new java.util.HashMap<>(Map.of(NEST_NETBENCH.substring(1), netbench));
        if (vsock) {
            Path agentImage = work.resolve("rootfs-agent.ext4");
            writeImage(work, agentImage, Map.of("usr/bin/hg-vsink", vsink),
                    Gcc.buildStaticFile(root.resolve("guest/agent/hg-agent.c"), work));
            nestFiles.put(NEST_VSOCK_IMAGE.substring(1), agentImage);
            nestFiles.put(NEST_VSINK.substring(1), vsink);
        }
        String blkCommand = "hg-blkbench /dev/vda " + offsetMib + " " + (options.quick() ? 32 : BLK_REGION_MIB) + " "
                + (options.quick() ? 500 : 2000);
        String netCommand = "hg-netbench client " + NestProbe.BRIDGE_ADDRESS + " " + NestProbe.NET_PORT + " "
                + (options.quick() ? 32 : 128) + " " + (options.quick() ? 1000 : 2000);
        String conf = "kernel=" + (Files.isRegularFile(kernel) ? NEST_KERNEL : EMBEDDED_KERNEL) + "\nimage=" + NEST_IMAGE
                + "\nqemu=/usr/bin/qemu-system-x86_64\nqemu_data=/usr/share/qemu\nruns=" + bootRuns
                + "\nwarmup=" + (boot ? 2 : 0) + "\ntimeout_ms=120000\nblk_runs=" + blkRuns + "\nblk_warmup=1\nblk_command=" + blkCommand
                + "\nnet_runs=" + netRuns + "\nnet_warmup=1\nnet_timeout_ms=" + NET_TIMEOUT_MS + "\nnet_command=" + netCommand
                + "\nnet_server=" + NEST_NETBENCH + "\nsnap_runs=" + snapRuns + "\nsnap_warmup=1\nclone_runs=" + cloneRuns
                + "\nclone_warmup=1\nclone_count=" + NestSnap.CLONES + "\nsnap_dir=" + NestSnap.SNAP_DIR
                + "\nvsock_runs=" + vsockRuns + "\nvsock_image=" + NEST_VSOCK_IMAGE + "\nvsink=" + NEST_VSINK
                + "\nexec_count=" + (options.quick() ? 20 : 50) + "\nvsock_bytes=" + (64L << 20)
                + "\nshare_runs=" + shareRuns + "\nshare_mib=64\nshare_dir=/tmp/hg-bench-share"
                + "\nhuge_runs=" + hugeRuns + "\nhuge_mem_mib=512\nhuge_command=hg-memtouch 256 4000000"
                + "\nboot_log=" + System.getenv().getOrDefault("HG_BENCH_BOOT_LOG", "0")
                + "\nboot_console=" + System.getenv().getOrDefault("HG_BENCH_BOOT_CONSOLE", "")
                + "\ndensity_count=" + densityCount + "\ndensity_mem_mib=64\ndensity_windows=3\ndensity_seconds=10\n";
        Path initrd = extraInitrd(image.resolve("initramfs.img"), qemu, Files.isRegularFile(kernel) ? kernel : null,
                rootfs, nestFiles, work, conf);
        List<String> lines = runNest(up, image, initrd, work.resolve("nest-serial.log"),
                300 + (bootRuns + (boot ? 2 : 0)) * 120 + (blkRuns + (blk ? 1 : 0)) * 240 + (net ? netRuns + 1 : 0) * NET_TIMEOUT_MS / 750
                        + (snap ? snapRuns + 2 : 0) * 120 + (clone ? cloneRuns + 1 : 0) * 240
                        + (vsock ? 300 + (vsockRuns + 1) * 240 : 0) + (share ? (shareRuns + 1) * 2 * 240 : 0)
                        + (huge ? (hugeRuns + 1) * 2 * 120 : 0) + densityCount * 2 * 60,
                density ? DENSITY_NEST_MIB : 0);
        Files.deleteIfExists(initrd);
        Files.deleteIfExists(rootfs);
        return new Outcome(lines, work, null);
    }

    /**
     * Writes the guest's rootfs image: the default busybox rootfs plus {@code programs} (path in the
     * image to the binary), in a file {@link #BLK_REGION_MIB} MiB longer than the file system;
     * returns the region's offset in MiB.
     */
    static long guestImage(Path work, Path image, Map<String, Path> programs) throws Exception {
        Ext4Image written = writeImage(work, image, programs, null);
        long offsetMib = (written.sizeBytes() + MIB - 1) / MIB + 1;
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength((offsetMib + BLK_REGION_MIB) * MIB);
        }
        return offsetMib;
    }

    /** The default busybox rootfs plus {@code programs} and, unless null, the guest agent (started by init). */
    static Ext4Image writeImage(Path work, Path image, Map<String, Path> programs, Path agent) throws Exception {
        Path download = Files.createDirectories(work.resolve("deb"));
        Path deb = Rootfs.findBusyboxDeb(null, download);
        try (FsTree tree = Rootfs.tree(deb, OptionalLong.of(RootfsBuild.EPOCH))) {
            for (Map.Entry<String, Path> p : new TreeMap<>(programs).entrySet()) {
                tree.put(p.getKey(), new Node.File(new Meta(0755, 0, 0, RootfsBuild.EPOCH),
                        Content.of(Files.readAllBytes(p.getValue()))));
            }
            if (agent != null) {
                Rootfs.addAgent(tree, agent);
            }
            return new Ext4ImageWriter().sourceDateEpoch(RootfsBuild.EPOCH).write(tree, image);
        }
    }

    /**
     * The boot image's initramfs plus a second gzip'd cpio with the probe, QEMU and its files, and
     * {@code files} (path in the nest to the file).
     */
    static Path extraInitrd(Path base, Path qemu, Path kernel, Path rootfs, Map<String, Path> files, Path work,
                            String conf) throws Exception {
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
        // and what it runs beside it: top-level classes of its own, each a file
        for (String more : List.of("hg/bench/NestVsock.class", "hg/bench/NestShare.class", "hg/bench/NestQemu.class",
                "hg/bench/Confined.class", "hg/bench/NestHuge.class", "hg/bench/NestDensity.class",
                "hg/bench/BytesMatch.class")) {
            try (InputStream in = NestBoot.class.getResourceAsStream("/" + more)) {
                if (in == null) {
                    throw new IOException("the bench jar has no " + more);
                }
                put(stage, entries, "opt/hg-selftest/" + more, in.readAllBytes());
            }
        }
        put(stage, entries, "opt/hg-selftest/main", (NestProbe.class.getName() + "\n").getBytes(StandardCharsets.UTF_8));
        if (kernel != null) {
            copy(stage, entries, kernel.toRealPath(), NEST_KERNEL.substring(1));
        }
        copy(stage, entries, rootfs, NEST_IMAGE.substring(1));
        for (Map.Entry<String, Path> f : new TreeMap<>(files).entrySet()) {
            copy(stage, entries, f.getValue(), f.getKey());
        }
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
    static List<String> runNest(Path up, Path image, Path initrd, Path log, int timeoutSeconds, int memMib) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(up.toString(), "--initrd", initrd.toString(), "--append", "hg_selftest=kvm",
                "--timeout", Integer.toString(timeoutSeconds)));
        if (memMib > 0) {
            cmd.addAll(List.of("--mem", Integer.toString(memMib)));
        }
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
