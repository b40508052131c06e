package hg.imagetools;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The default guest root filesystem: Debian's static busybox, a link for each of its applets, and
 * a busybox init set-up that mounts proc/sys/dev, names the host, touches the boot-time marker
 * when the kernel command line asks for it ({@code hg_boot_marker=0xADDR}), and keeps a shell on
 * the serial console. {@code poweroff} goes through busybox init, which ends in a reboot: a
 * lightweight VM has no ACPI, so the kernel could only halt its CPUs and the VM would sit there,
 * while a reboot ends it (hyper-gen stops a VM on reset; so does QEMU with -no-reboot).
 */
public final class Rootfs {
    public static final String HOSTNAME = "hyper-gen-guest";

    static final String INITTAB = """
            # busybox init: start-up script, then a shell on the console (cttyhack finds the real tty,
            # e.g. ttyS0, so the shell gets job control). poweroff and reboot run the shutdown lines.
            ::sysinit:/etc/init.d/rcS
            ::respawn:/bin/cttyhack /bin/sh -l
            ::ctrlaltdel:/sbin/reboot
            ::shutdown:/bin/umount -a -r
            ::shutdown:/bin/busybox reboot -f
            """;

    static final String RCS = """
            #!/bin/sh
            # Guest start-up. The boot-time marker comes first: the kernel hands the command line's
            # hg_boot_marker=0xADDR to init, and so to this script, as an environment variable; the VMM
            # records the time of this one-byte MMIO write as "guest reached init".
            [ -e /dev/mem ] || mount -t devtmpfs devtmpfs /dev 2>/dev/null
            [ -n "$hg_boot_marker" ] && devmem "$hg_boot_marker" 8 1 2>/dev/null
            mount -t proc proc /proc
            mount -t sysfs sysfs /sys
            mount -t devtmpfs devtmpfs /dev 2>/dev/null
            mkdir -p /dev/pts /dev/shm
            mount -t devpts devpts /dev/pts 2>/dev/null
            mount -t tmpfs tmpfs /tmp 2>/dev/null
            mount -t tmpfs tmpfs /run 2>/dev/null
            mount -o remount,rw / 2>/dev/null
            hostname -F /etc/hostname
            ip link set lo up 2>/dev/null
            # ip=ADDRESS::GATEWAY:NETMASK::DEVICE:off from the VMM; a kernel without IP autoconfig
            # hands it to init, and so to this script, as a variable.
            if [ -n "$ip" ]; then
              old_ifs=$IFS; IFS=:; set -- $ip; IFS=$old_ifs
              [ -n "$6" ] && ifconfig "$6" "$1" netmask "$4" up && [ -n "$3" ] && route add default gw "$3"
            fi
            # Shared folders (virtio-9p), each at /mnt/<its tag>.
            for t in /sys/bus/virtio/drivers/9pnet_virtio/virtio*/mount_tag; do
              [ -r "$t" ] || continue
              tag=$(cat "$t")
              # A read-only root has no room for mount points: a small tmpfs on /mnt gives it some.
              mkdir -p "/mnt/$tag" 2>/dev/null || { mount -t tmpfs -o size=64k,mode=755 tmpfs /mnt && mkdir -p "/mnt/$tag"; }
              mount -t 9p -o trans=virtio,version=9p2000.L,msize=524288 "$tag" "/mnt/$tag" \
                || echo "hyper-gen guest: cannot mount the shared folder $tag"
            done
            echo "hyper-gen guest: $(uname -r), type poweroff to stop"
            """;

    static final String PROFILE = """
            export PATH=/bin:/sbin:/usr/bin:/usr/sbin
            export HOME=/root
            PS1='\\h:\\w\\$ '
            """;

    private Rootfs() {}

    /**
     * Where the busybox-static package is: the given file, else the apt cache, else one fetched
     * with {@code apt-get download} into {@code downloadDir}.
     */
    public static Path findBusyboxDeb(Path given, Path downloadDir) throws IOException {
        if (given != null) {
            if (!Files.isReadable(given)) throw new ImageToolsException.BadSource("cannot read " + given);
            return given;
        }
        Path cache = Path.of("/var/cache/apt/archives");
        if (Files.isDirectory(cache)) {
            try (Stream<Path> s = Files.list(cache)) {
                Path best = s.filter(p -> p.getFileName().toString().startsWith("busybox-static_") && p.toString().endsWith(".deb"))
                        .sorted().reduce((a, b) -> b).orElse(null);
                if (best != null) return best;
            }
        }
        try {
            Process p = new ProcessBuilder("apt-get", "download", "busybox-static").directory(downloadDir.toFile())
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!p.waitFor(300, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new ImageToolsException.BadSource("apt-get download busybox-static took too long");
            }
            if (p.exitValue() == 0) {
                try (Stream<Path> s = Files.list(downloadDir)) {
                    Path d = s.filter(x -> x.toString().endsWith(".deb")).findFirst().orElse(null);
                    if (d != null) return d;
                }
            }
        } catch (IOException e) {
            // no apt-get: the message below says what to do
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        throw new ImageToolsException.BadSource("no busybox-static package: give --busybox-deb FILE, or install apt-get access");
    }

    /** Builds the rootfs tree from a busybox-static .deb; the applet list is read from the binary, which is not run. */
    public static FsTree tree(Path busyboxDeb, OptionalLong sourceDateEpoch) throws IOException {
        return tree(busyboxDeb, sourceDateEpoch, Limits.DEFAULT);
    }

    /** As {@link #tree(Path, OptionalLong)}, reading the package within {@code limits}. */
    public static FsTree tree(Path busyboxDeb, OptionalLong sourceDateEpoch, Limits limits) throws IOException {
        try (FsTree deb = Sources.read(busyboxDeb, limits)) {
            if (!(deb.get("bin/busybox") instanceof Node.File bb))
                throw new ImageToolsException.BadSource(busyboxDeb + ": no bin/busybox in this package");
            requireSmall(bb.content().size(), busyboxDeb + ": bin/busybox");
            byte[] binary;
            try (InputStream in = bb.content().open()) { binary = in.readAllBytes(); }
            return tree(binary, sourceDateEpoch.orElse(bb.meta().mtimeSeconds()), busyboxDeb.toString());
        }
    }

    /**
     * Builds the rootfs tree from a statically linked busybox binary (e.g. Debian busybox-static's
     * /bin/busybox); the applet list is read from the binary, which is not run.
     */
    public static FsTree treeFromBinary(Path busybox, OptionalLong sourceDateEpoch) throws IOException {
        if (!Files.isRegularFile(busybox) || !Files.isReadable(busybox)) throw new ImageToolsException.BadSource("cannot read " + busybox);
        requireSmall(Files.size(busybox), busybox.toString());
        byte[] binary = Files.readAllBytes(busybox);
        return tree(binary, sourceDateEpoch.orElse(Files.getLastModifiedTime(busybox).toInstant().getEpochSecond()), busybox.toString());
    }

    /** The binary is read whole into memory. */
    private static void requireSmall(long size, String what) {
        if (size > Limits.MAX_BUSYBOX_BYTES)
            throw new ImageToolsException.OverLimit(what + " is larger than " + Limits.size(Limits.MAX_BUSYBOX_BYTES) + ", too big for a busybox");
    }

    private static FsTree tree(byte[] binary, long time, String what) {
        requireStaticElf(binary, what);
        FsTree tree = new FsTree();
        try {
            Meta dir = new Meta(0755, 0, 0, time);
            Meta file = new Meta(0644, 0, 0, time);
            Meta exe = new Meta(0755, 0, 0, time);
            Meta link = new Meta(0777, 0, 0, time);
            tree.root().meta(dir);
            for (String d : List.of("bin", "sbin", "usr", "usr/bin", "usr/sbin", "etc", "etc/init.d", "dev", "proc", "sys",
                    "run", "mnt", "var", "var/log", "home")) tree.put(d, new Node.Dir(dir));
            tree.put("tmp", new Node.Dir(dir.withPermissions(01777)));
            tree.put("root", new Node.Dir(dir.withPermissions(0700)));
            tree.put("bin/busybox", new Node.File(exe, Content.of(binary)));
            for (String applet : BusyboxApplets.read(binary, what)) {
                if (applet.equals("bin/busybox") || tree.get(applet) != null) continue;
                tree.put(applet, new Node.Symlink(link, "/bin/busybox"));
            }
            // the kernel runs /init from an initramfs; busybox then acts as init
            tree.put("init", new Node.Symlink(link, "/bin/busybox"));
            text(tree, "etc/inittab", INITTAB, file);
            text(tree, "etc/init.d/rcS", RCS, exe);
            text(tree, "etc/hostname", HOSTNAME + "\n", file);
            text(tree, "etc/hosts", "127.0.0.1\tlocalhost " + HOSTNAME + "\n", file);
            text(tree, "etc/passwd", "root:x:0:0:root:/root:/bin/sh\n", file);
            text(tree, "etc/group", "root:x:0:\n", file);
            text(tree, "etc/shadow", "root::0:0:99999:7:::\n", file.withPermissions(0600));
            text(tree, "etc/profile", PROFILE, file);
            text(tree, "etc/fstab", "", file);
            // for the moment before devtmpfs is mounted, and for kernels without it
            tree.put("dev/console", new Node.Special(file.withPermissions(0600), Node.Special.Type.CHAR_DEVICE, 5, 1));
            tree.put("dev/null", new Node.Special(file.withPermissions(0666), Node.Special.Type.CHAR_DEVICE, 1, 3));
            tree.put("dev/ttyS0", new Node.Special(file.withPermissions(0660), Node.Special.Type.CHAR_DEVICE, 4, 64));
            return tree;
        } catch (RuntimeException e) {
            tree.close();
            throw e;
        }
    }

    /** Where the guest agent goes, and what init is told about it. */
    static final String AGENT = "sbin/hg-agent";

    /**
     * Adds the guest agent (a static x86-64 ELF) as {@code /sbin/hg-agent}, and a line to init's table
     * that starts it and starts it again should it end.
     */
    public static void addAgent(FsTree tree, Path agent) throws IOException {
        if (!Files.isRegularFile(agent) || !Files.isReadable(agent)) throw new ImageToolsException.BadSource("cannot read " + agent);
        requireSmall(Files.size(agent), agent.toString());
        byte[] binary = Files.readAllBytes(agent);
        requireStaticElf(binary, agent.toString(), "the agent");
        Node inittab = tree.get("etc/inittab");
        if (inittab == null) throw new ImageToolsException.BadSource("the rootfs has no etc/inittab to start the agent from");
        Meta file = inittab.meta();
        tree.put(AGENT, new Node.File(file.withPermissions(0755), Content.of(binary)));
        text(tree, "etc/inittab", INITTAB + "::respawn:/" + AGENT + "\n", file);
    }

    static void requireStaticElf(byte[] b, String what) {
        requireStaticElf(b, what, "busybox");
    }

    /** The guest has no libraries: the program must be an x86-64 ELF without a program interpreter. */
    static void requireStaticElf(byte[] b, String what, String program) {
        java.nio.ByteBuffer e = java.nio.ByteBuffer.wrap(b).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        if (b.length < 64 || e.getInt(0) != 0x464c457f || b[4] != 2 || b[5] != 1 || e.getShort(0x12) != 0x3e)
            throw new ImageToolsException.BadSource(what + ": " + program + " is not an x86-64 ELF executable");
        long phoff = e.getLong(0x20);
        int phentsize = e.getShort(0x36) & 0xffff, phnum = e.getShort(0x38) & 0xffff;
        for (int k = 0; k < phnum; k++) {
            long off = phoff + (long) k * phentsize;
            if (off < 0 || off + 4 > b.length) throw new ImageToolsException.BadSource(what + ": truncated ELF program headers");
            if (e.getInt((int) off) == 3) // PT_INTERP
                throw new ImageToolsException.BadSource(what + ": " + program + " is dynamically linked; the guest needs a static one" + (program.equals("busybox") ? " (busybox-static)" : ""));
        }
    }

    private static void text(FsTree t, String path, String body, Meta m) {
        t.put(path, new Node.File(m, Content.of(body.getBytes(StandardCharsets.UTF_8))));
    }
}
