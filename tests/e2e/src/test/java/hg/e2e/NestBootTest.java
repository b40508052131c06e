package hg.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import hg.e2e.nest.TinyGuestCheck;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The boot image (host bzImage + initramfs) booted in QEMU under TCG with an emulated SVM CPU (or
 * nested KVM where the machine has it), with nothing on the cmdline but what up.sh adds.
 */
class NestBootTest {
    /** JIT-heavy start-up in TCG is slow, and the machine may be busy: generous, still bounded. */
    private static final Duration BOOT = Duration.ofMinutes(4);

    private static BootImage image;

    @BeforeAll
    static void findImage() {
        Optional<BootImage> found = BootImage.find();
        assumeTrue(found.isPresent(), "no boot image in this checkout: run ./hg build (or ./hg test)");
        image = found.get();
    }

    @Test
    @Timeout(value = 10, unit = java.util.concurrent.TimeUnit.MINUTES)
    void bootsToTheShellOnTheSerialConsoleAndRunsTheDefaultGuest() {
        // up.sh's cmdline (tsc_early_khz= among others): without it the nest kernel's TSC
        // calibration under TCG fails when the machine is busy, and guests of the nest then hang.
        // The boot with nothing but console=ttyS0 is checked by the two tests below.
        try (NestedRig rig = NestedRig.start(image, NestedRig.Options.named("boot"))) {
            Matcher init = rig.serial().waitFor("init started at ([0-9.]+) s of uptime", BOOT);
            double initWall = rig.elapsedSeconds();
            rig.serial().waitFor("hyper-gen:# ", BOOT);
            System.out.printf("e2e: nest /init at %s s uptime (%.2f s wall), shell prompt at %.2f s wall%n",
                    init.group(1), initWall, rig.elapsedSeconds());
            String start = rig.serial().text().substring(rig.serial().text().indexOf("init started at"));
            // Nor the JVM (e.g. an AOT cache it refused): the console shows the shell only.
            assertFalse(start.contains("Exception") || start.contains("WARNING") || start.contains("[error]")
                            || start.contains("[warning]"),
                    "the shell's start printed a warning or an exception:\n" + start);
            // The embedded defaults: the guest kernel as kernel 0, the busybox image as image 0.
            rig.serial().send("kernel_list");
            rig.serial().waitFor("(?m)^0\\s+vmlinux-6\\.1\\s", Duration.ofSeconds(60));
            rig.serial().waitFor("hyper-gen:# ", Duration.ofSeconds(60));
            rig.serial().send("image_list");
            rig.serial().waitFor("(?m)^0\\s+busybox\\.ext4\\s", Duration.ofSeconds(60));
            rig.serial().waitFor("hyper-gen:# ", Duration.ofSeconds(60));

            // The two defaults boot together on the nest's KVM: a real Linux guest with a shell
            // (booted as every e2e guest is, with one more try when the rig loses a boot).
            HgShell shell = new HgShell(rig.serial());
            RigRetry.once(shell, "the embedded defaults boot", () -> {
                int id = GuestBoot.create(shell, "0 0", BOOT);   // it logs the boot's timings
                String out = shell.guest("uname -r; echo guest-says-$((6 * 7))", Duration.ofSeconds(60));
                assertTrue(Pattern.compile("(?m)^6\\.1\\.\\d+").matcher(out).find()
                                && Pattern.compile("(?m)^guest-says-42").matcher(out).find(),
                        "the guest's answer to uname -r and an arithmetic echo:\n" + out);
                shell.detach(id, Duration.ofSeconds(60)); // CTRL+d
                assertEquals("vm " + id + " destroyed", shell.ok("vm_destroy " + id, Duration.ofSeconds(60)).strip());
            });
        }
    }

    @Test
    @Timeout(value = 6, unit = java.util.concurrent.TimeUnit.MINUTES)
    void devKvmWorksInsideTheNest(@TempDir Path tmp) {
        Path initrd = ExtraInitrd.withMain(image, TinyGuestCheck.class, tmp.resolve("initramfs-selftest.img"));
        // A nest whose JVM the rig's emulated CPU kills is booted once more (RigRetry), under its own
        // name so that the first boot's console log stays for a look.
        int[] boots = {0};
        RigRetry.once(RetryBudget.SUITE, "the kvm self-test", () -> selfTest(NestedRig.Options
                .named(boots[0]++ == 0 ? "kvm" : "kvm-again").withAppend("hg_selftest=kvm").withInitrd(initrd)), () -> {});
    }

    /**
     * Boots the nest with the kvm self-test and checks what it printed. A self-test that did not end
     * with rc 0 fails with the nest's console output, so that {@link RigRetry} can tell the rig's
     * fault (its JVM killed in JIT-compiled JDK code) from ours.
     */
    private static void selfTest(NestedRig.Options options) {
        try (NestedRig rig = NestedRig.start(image, options)) {
            Matcher rc = rig.serial().waitFor("hg-selftest kvm: rc=(\\d+)", BOOT);
            String out = rig.serial().text();
            if (!rc.group(1).equals("0")) {
                throw new ConsoleFailure("the kvm self-test failed in the nest (rc " + rc.group(1) + "):\n"
                        + rig.serial().tail(3000), out);
            }
            assertTrue(out.matches("(?s).*crw\\S*\\s+1 root\\s+root\\s+10,\\s+232 .*/dev/kvm.*"),
                    "/dev/kvm is not the KVM character device (10, 232) in the nest:\n" + rig.serial().tail(3000));
            assertTrue(out.matches("(?s).*kvm: /dev/kvm API version 12, CPU vendor \\w+\n.*"),
                    "hg.kvm.KvmCheck did not find a usable KVM in the nest:\n" + rig.serial().tail(3000));
            assertTrue(out.contains("tiny guest: ok"),
                    "the tiny guest did not run on the nest's /dev/kvm:\n" + rig.serial().tail(3000));
            // The self-test ends in a reboot, and QEMU (-no-reboot) exits cleanly.
            assertEquals(0, rig.waitForExit(Duration.ofSeconds(60)), "QEMU's exit status after the nest rebooted");
        }
    }

    @Test
    @Timeout(value = 6, unit = java.util.concurrent.TimeUnit.MINUTES)
    void guestDirectoriesComeFromTheRootDeviceReadOnlyAndTheShellRespawns(@TempDir Path tmp) throws Exception {
        // A disk as a machine would have it: guest kernels and images in directories of an ext4 root.
        Path tree = Files.createDirectories(tmp.resolve("tree"));
        Files.createDirectories(tree.resolve("srv/kernels"));
        Files.createDirectories(tree.resolve("srv/images"));
        Files.copy(image.root().resolve("build/kernels/guest-vmlinux"), tree.resolve("srv/kernels/vmlinux-on-disk"));
        HostCommand.run(Duration.ofSeconds(60), "mke2fs", "-q", "-t", "ext4", "-F", tree.resolve("srv/images/disk-image.ext4").toString(), "4M");
        Path disk = tmp.resolve("root.ext4");
        HostCommand.run(Duration.ofSeconds(60), "mke2fs", "-q", "-t", "ext4", "-d", tree.toString(), "-F", disk.toString(), "64M");

        NestedRig.Options options = NestedRig.Options.named("rootdev").bareCmdline().withDisk(disk).withDebugShell()
                .withAppend("root=/dev/vda guest_kernel=/srv/kernels guest_image=/srv/nonexistent");
        try (NestedRig rig = NestedRig.start(image, options)) {
            rig.serial().waitFor("root=/dev/vda \\(/dev/vda\\) mounted read-only at /mnt/root", BOOT);
            // A directory that is not on the device: said once, and the embedded images are offered instead.
            rig.serial().waitFor("guest_image=/srv/nonexistent is not a directory on root=/dev/vda; using the embedded images", BOOT);
            rig.serial().waitFor("hyper-gen:# ", BOOT);
            rig.serial().send("kernel_list");
            rig.serial().waitFor("(?m)^0\\s+vmlinux-on-disk\\s", Duration.ofSeconds(60));
            rig.serial().waitFor("hyper-gen:# ", Duration.ofSeconds(60));
            rig.serial().send("image_list");
            rig.serial().waitFor("(?m)^0\\s+busybox\\.ext4\\s", Duration.ofSeconds(60));

            ConsoleStream sh = rig.debugShell();
            sh.waitFor(NestedRig.DEBUG_PROMPT, BOOT);
            // The rig's microvm lists its CPUs and IOAPIC in an MP table only (no ACPI): a host kernel that
            // cannot read it runs the nest on one CPU and the PIC, and every nest test gets slower.
            assertEquals("2", sh.run("grep -c ^processor /proc/cpuinfo", Duration.ofSeconds(30)).output().strip(),
                    "the nest's CPUs online (QEMU gives it two)");
            assertTrue(sh.run("cat /proc/interrupts", Duration.ofSeconds(30)).output().contains("IO-APIC"),
                    "the nest's interrupts do not go through its IOAPIC");
            String mounts = sh.run("cat /proc/mounts", Duration.ofSeconds(30)).output();
            assertTrue(mounts.matches("(?s).*/dev/vda /mnt/root ext4 ro[,\\s].*"), "root device not read-only:\n" + mounts);
            assertTrue(mounts.matches("(?s).*/dev/vda /srv/kernels ext4 ro[,\\s].*"), "guest_kernel= not bound read-only:\n" + mounts);
            assertEquals(1, sh.run("touch /srv/kernels/x", Duration.ofSeconds(30)).status(),
                    "guest_kernel= must not be writable");

            // A shell that dies is started again on its console.
            assertEquals(0, sh.run("killall -KILL java", Duration.ofSeconds(30)).status(), "no shell JVM to kill");
            rig.serial().waitFor("the shell exited \\(rc 137\\); starting a new one", Duration.ofSeconds(60));
            rig.serial().waitFor("hyper-gen:# ", BOOT);
            rig.serial().send("kernel_list");
            rig.serial().waitFor("(?m)^0\\s+vmlinux-on-disk\\s", Duration.ofSeconds(60));
        }
    }

    @Test
    @Timeout(value = 8, unit = java.util.concurrent.TimeUnit.MINUTES)
    void altF3ShowsTheShellOnTty3() {
        try (NestedRig rig = NestedRig.start(image, NestedRig.Options.named("vt").withVga().bareCmdline().withDebugShell())) {
            ConsoleStream sh = rig.debugShell();
            sh.waitFor(NestedRig.DEBUG_PROMPT, BOOT);
            VirtualTerminals.altF3ShowsTheShell(rig, sh, BOOT);
        }
    }
}
