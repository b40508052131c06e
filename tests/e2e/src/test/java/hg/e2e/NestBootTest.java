package hg.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import hg.e2e.nest.TinyGuestCheck;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.regex.Matcher;
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
    @Timeout(value = 6, unit = java.util.concurrent.TimeUnit.MINUTES)
    void bootsToTheShellOnTheSerialConsole() {
        try (NestedRig rig = NestedRig.start(image, NestedRig.Options.named("boot"))) {
            Matcher init = rig.serial().waitFor("init started at ([0-9.]+) s of uptime", BOOT);
            double initWall = rig.elapsedSeconds();
            switch (image.main()) {
                case SHELL -> {
                    rig.serial().waitFor("hyper-gen:# ", BOOT);
                    System.out.printf("e2e: nest /init at %s s uptime (%.2f s wall), shell prompt at %.2f s wall%n",
                            init.group(1), initWall, rig.elapsedSeconds());
                    // The embedded default guest kernel is kernel 0.
                    rig.serial().send("kernel_list");
                    rig.serial().waitFor("vmlinux-6\\.1", Duration.ofSeconds(60));
                    rig.serial().waitFor("hyper-gen:# ", Duration.ofSeconds(60));
                }
                case KVMCHECK -> {
                    rig.serial().waitFor("no shell in this boot image; checking /dev/kvm instead", BOOT);
                    Matcher done = rig.serial().waitFor("kvm check finished \\(rc (\\d+)\\)", BOOT);
                    System.out.printf("e2e: nest /init at %s s uptime (%.2f s wall), kvm check done at %.2f s wall%n",
                            init.group(1), initWall, rig.elapsedSeconds());
                    assertEquals("0", done.group(1), "hg.kvm.KvmCheck failed in the nest:\n" + rig.serial().tail(3000));
                }
            }
        }
    }

    @Test
    @Timeout(value = 6, unit = java.util.concurrent.TimeUnit.MINUTES)
    void devKvmWorksInsideTheNest(@TempDir Path tmp) {
        Path initrd = ExtraInitrd.withMain(image, TinyGuestCheck.class, tmp.resolve("initramfs-selftest.img"));
        NestedRig.Options options = NestedRig.Options.named("kvm").withAppend("hg_selftest=kvm").withInitrd(initrd);
        try (NestedRig rig = NestedRig.start(image, options)) {
            Matcher rc = rig.serial().waitFor("hg-selftest kvm: rc=(\\d+)", BOOT);
            String out = rig.serial().text();
            assertTrue(out.matches("(?s).*crw\\S*\\s+1 root\\s+root\\s+10,\\s+232 .*/dev/kvm.*"),
                    "/dev/kvm is not the KVM character device (10, 232) in the nest:\n" + rig.serial().tail(3000));
            assertTrue(out.matches("(?s).*kvm: /dev/kvm API version 12, CPU vendor \\w+\n.*"),
                    "hg.kvm.KvmCheck did not find a usable KVM in the nest:\n" + rig.serial().tail(3000));
            assertTrue(out.contains("tiny guest: ok"),
                    "the tiny guest did not run on the nest's /dev/kvm:\n" + rig.serial().tail(3000));
            assertEquals("0", rc.group(1), "the kvm self-test failed in the nest:\n" + rig.serial().tail(3000));
            // The self-test ends in a reboot, and QEMU (-no-reboot) exits cleanly.
            assertEquals(0, rig.waitForExit(Duration.ofSeconds(60)), "QEMU's exit status after the nest rebooted");
        }
    }

    @Test
    @Timeout(value = 8, unit = java.util.concurrent.TimeUnit.MINUTES)
    void altF3ShowsTheShellOnTty3() {
        try (NestedRig rig = NestedRig.start(image, NestedRig.Options.named("vt").withVga().withDebugShell())) {
            ConsoleStream sh = rig.debugShell();
            sh.waitFor(NestedRig.DEBUG_PROMPT, BOOT);
            assertEquals("tty1", sh.run("cat /sys/class/tty/tty0/active", Duration.ofSeconds(30)).output().strip(),
                    "the active virtual terminal before ALT+F3");
            rig.monitor("sendkey alt-f3");
            String active = "";
            for (int i = 0; i < 50 && !active.equals("tty3"); i++) {
                active = sh.run("cat /sys/class/tty/tty0/active", Duration.ofSeconds(30)).output().strip();
            }
            assertEquals("tty3", active, "the active virtual terminal after ALT+F3");
            // What tty3 shows (its screen memory, /dev/vcs3): the shell, started there by init.
            String expected = switch (image.main()) {
                case SHELL -> "hyper-gen:#";
                case KVMCHECK -> "kvm check finished (rc 0)";
            };
            long deadline = System.nanoTime() + BOOT.toNanos();
            String screen = "";
            while (!screen.contains(expected) && System.nanoTime() < deadline) {
                screen = sh.run("cat /dev/vcs3; echo", Duration.ofSeconds(30)).output();
                if (!screen.contains(expected)) {
                    sh.run("sleep 2", Duration.ofSeconds(30));
                }
            }
            assertTrue(screen.contains(expected), "tty3 does not show '" + expected + "'; its screen:\n" + screen);
            System.out.printf("e2e: tty3 showed '%s' at %.2f s wall%n", expected, rig.elapsedSeconds());
        }
    }
}
