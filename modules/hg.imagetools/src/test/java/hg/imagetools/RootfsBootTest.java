package hg.imagetools;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The default rootfs boots a real guest kernel as its root filesystem, under QEMU TCG (no KVM
 * needed): busybox init runs rcS, which writes the boot marker (seen in QEMU's MMIO trace), the
 * serial shell answers, the guest writes files, poweroff shuts it down, and e2fsck still finds
 * the image clean.
 */
class RootfsBootTest {
    @TempDir Path tmp;

    /** The guest vmlinux the kernel build caches (HG_CACHE, else ~/.cache/hyper-gen). */
    static Path guestKernel() throws Exception {
        String cache = System.getenv("HG_CACHE");
        Path kernels = (cache != null ? Path.of(cache) : Path.of(System.getProperty("user.home"), ".cache", "hyper-gen")).resolve("kernels");
        Assumptions.assumeTrue(Files.isDirectory(kernels), "no guest kernel built yet (" + kernels + ")");
        try (Stream<Path> s = Files.list(kernels)) {
            Path k = s.filter(p -> p.getFileName().toString().startsWith("guest-") && Files.exists(p.resolve(".done")))
                    .map(p -> p.resolve("vmlinux")).filter(Files::isRegularFile).sorted().reduce((a, b) -> b).orElse(null);
            Assumptions.assumeTrue(k != null, "no guest vmlinux under " + kernels);
            return k;
        }
    }

    @Test
    void bootsUnderQemuAndPowersOff() throws Exception {
        Path kernel = guestKernel();
        Assumptions.assumeTrue(ImageCheck.run(tmp, "sh", "-c", "command -v qemu-system-x86_64").exit() == 0, "no qemu-system-x86_64");
        Path img = tmp.resolve("rootfs.img");
        try (FsTree t = RootfsTest.busyboxTree(OptionalLong.empty())) {
            new Ext4ImageWriter().journal(true).write(t, img);
        }
        Process q = new ProcessBuilder("timeout", "300", "qemu-system-x86_64", "-M", "microvm,acpi=off", "-accel", "tcg", "-cpu", "max",
                "-m", "256", "-smp", "1", "-nographic", "-no-reboot", "-kernel", kernel.toString(),
                // the marker address is an unused virtio-mmio slot of microvm, where a write is harmless and traced
                "-append", "console=ttyS0 root=/dev/vda rw reboot=t panic=-1 tsc=reliable hg_boot_marker=0xfeb00000",
                "-drive", "file=" + img + ",format=raw,if=none,id=d", "-device", "virtio-blk-device,drive=d",
                "-trace", "memory_region_ops_write,file=" + tmp.resolve("mmio.trace"))
                .redirectErrorStream(true).start();
        StringBuilder out = new StringBuilder();
        try (InputStream in = q.getInputStream(); OutputStream cmd = q.getOutputStream()) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
            boolean sent = false;
            byte[] buf = new byte[4096];
            while (System.nanoTime() < deadline) {
                if (in.available() == 0) {
                    if (!q.isAlive()) break;
                    Thread.sleep(50);
                    continue;
                }
                int n = in.read(buf);
                if (n < 0) break;
                out.append(new String(buf, 0, n, StandardCharsets.UTF_8));
                if (!sent && out.indexOf("hyper-gen-guest:/# ") >= 0) {
                    // the guest kernel allocates in our bitmaps and group descriptors: e2fsck checks the result below
                    cmd.write(("echo written-by-guest > /root/f; mkdir -p /root/d; for i in 1 2 3 4 5 6 7 8; do cp /bin/busybox /root/d/bb$i; done; "
                            + "rm /root/d/bb3; ln -s /root/f /root/l; sync; echo MARK-$((6*7)) $(hostname); poweroff\n").getBytes(StandardCharsets.US_ASCII));
                    cmd.flush();
                    sent = true;
                }
                if (out.indexOf("reboot: System halted") >= 0 || out.indexOf("reboot: Power down") >= 0) break;
            }
        } finally {
            q.destroy();
            if (!q.waitFor(10, TimeUnit.SECONDS)) q.destroyForcibly();
        }
        String log = out.toString();
        if (!log.contains("MARK-42 hyper-gen-guest")) fail("the guest shell did not answer:\n" + log);
        assertTrue(log.contains("EXT4-fs (vda): mounted filesystem"), log);
        assertTrue(log.contains("reboot: System halted") || log.contains("reboot: Power down"), "poweroff did not finish:\n" + log);
        assertTrue(!log.contains("EXT4-fs error") && !log.contains("Kernel panic"), log);
        String trace = Files.readString(tmp.resolve("mmio.trace"));
        assertTrue(trace.lines().anyMatch(l -> l.contains("addr 0xfeb00000 value 0x1 size 1")), "rcS did not write the boot marker");
        ImageCheck.e2fsckClean(img);
        ImageCheck.Run cat = ImageCheck.run(tmp, "debugfs", "-R", "cat /root/f", img.toString());
        assertTrue(cat.out().contains("written-by-guest"), cat.out());
    }
}
