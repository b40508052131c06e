package hg.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * hyper-gen installed as its users install it: {@code hyper-gen.iso} booted by GRUB through SeaBIOS and
 * through OVMF, and {@code hyper-gen.img} written to a USB stick and filled as the README says, each on
 * a q35 PC whose only keyboard is a USB one (no PS/2 controller) and whose display is a standard VGA.
 * The nest's own cmdline words (its TSC rate, shadow paging under TCG) and the debug shell reach the
 * kernel the way a user's own words do: {@code hg_extra} in {@code hyper-gen.cfg} on an HG-DATA disk.
 */
class InstallMediaTest {
    private static final Duration BOOT = Duration.ofMinutes(4);
    private static final Duration COMMAND = Duration.ofSeconds(60);

    private static BootImage image;
    private static String rigWords;

    @BeforeAll
    static void findMedia() {
        Optional<BootImage> found = BootImage.find();
        assumeTrue(found.isPresent(), "no boot image in this checkout: run ./hg build (or ./hg test)");
        image = found.get();
        assertTrue(Files.isRegularFile(image.dir().resolve("hyper-gen.iso")) && Files.isRegularFile(image.dir().resolve("hyper-gen.img")),
                "no hyper-gen.iso or hyper-gen.img in " + image.dir() + ": bootimage/media.sh did not run");
        rigWords = HostCommand.run(COMMAND, image.upScript().toString(), "--rig-cmdline").strip();
    }

    @Test
    @Timeout(value = 9, unit = TimeUnit.MINUTES)
    void theIsoBootsThroughUefiOnAFramebufferWithAUsbKeyboard(@TempDir Path tmp) {
        try (NestedRig rig = bootIso(tmp, "iso-uefi", true)) {
            ConsoleStream sh = rig.debugShell();
            assertEquals(0, sh.run("test -d /sys/firmware/efi", COMMAND).status(), "the kernel was not started by UEFI");
            // UEFI leaves no VGA text mode: the console is the firmware's framebuffer (efifb) under fbcon.
            assertEquals("EFI VGA", sh.run("cat /sys/class/graphics/fb0/name", COMMAND).output().strip(),
                    "the framebuffer the console is drawn on");
            assertTrue(sh.run("cat /sys/class/vtconsole/vtcon*/name", COMMAND).output().contains("frame buffer device"),
                    "fbcon does not carry the virtual terminals");
            showsTheShellOnTty3AndBootsTheDefaultGuest(rig);
        }
    }

    @Test
    @Timeout(value = 9, unit = TimeUnit.MINUTES)
    void theIsoBootsThroughTheBiosOnVgaTextWithAUsbKeyboard(@TempDir Path tmp) {
        try (NestedRig rig = bootIso(tmp, "iso-bios", false)) {
            ConsoleStream sh = rig.debugShell();
            assertEquals(1, sh.run("test -d /sys/firmware/efi", COMMAND).status(), "a BIOS boot that the kernel saw as UEFI");
            assertTrue(sh.run("cat /sys/class/vtconsole/vtcon0/name", COMMAND).output().contains("VGA+"),
                    "the virtual terminals are not on the VGA text console");
            showsTheShellOnTty3AndBootsTheDefaultGuest(rig);
        }
    }

    /**
     * The README's "USB stick" steps, as written, on a 1 GiB stick (a loop device here): dd the image, let
     * the data partition take the rest of the stick, put a kernel and an image of one's own on it. Then
     * the stick boots through UEFI and the shell offers those, and boots them.
     */
    @Test
    @Timeout(value = 9, unit = TimeUnit.MINUTES)
    void theStickImageFollowsTheReadme(@TempDir Path tmp) throws IOException {
        assumeTrue("root".equals(System.getProperty("user.name")), "writing a stick (losetup, mount) needs root");
        Path stick = tmp.resolve("stick.raw");
        try (RandomAccessFile f = new RandomAccessFile(stick.toFile(), "rw")) {
            f.setLength(1L << 30);
        }
        Path mnt = Files.createDirectories(tmp.resolve("mnt"));
        String dev = HostCommand.run(COMMAND, "losetup", "--find", "--show", "--partscan", stick.toString()).strip();
        String data = dev + "p2";
        boolean mounted = false;
        try {
            HostCommand.run(COMMAND, "dd", "if=" + image.dir().resolve("hyper-gen.img"), "of=" + dev, "bs=4M",
                    "conv=fsync", "status=none");
            HostCommand.run(COMMAND, "sh", "-c", "echo ', +' | sfdisk --quiet -N 2 " + dev);
            HostCommand.run(COMMAND, "partx", "-u", dev);
            HostCommand.run(COMMAND, "e2fsck", "-fp", data);
            HostCommand.run(COMMAND, "resize2fs", data);
            HostCommand.run(COMMAND, "mount", data, mnt.toString());
            mounted = true;
            HostCommand.run(COMMAND, "mkdir", "-p", mnt + "/kernels", mnt + "/images");
            HostCommand.run(COMMAND, "cp", image.root().resolve("build/kernels/guest-vmlinux").toString(),
                    mnt + "/kernels/vmlinux-mine");
            HostCommand.run(Duration.ofMinutes(2), image.root().resolve("hg").toString(), "imagetools", "rootfs",
                    "--out", mnt + "/images/mine.ext4", "--size", "16M");
            Files.writeString(mnt.resolve("hyper-gen.cfg"), hgExtra());
            long dataMiB = Long.parseLong(HostCommand.run(COMMAND, "df", "--output=size", "-BM", mnt.toString())
                    .lines().skip(1).findFirst().orElseThrow().strip().replace("M", ""));
            assertTrue(dataMiB > 800, "the data partition did not grow to the rest of the 1 GiB stick: " + dataMiB + " MiB");
        } finally {
            if (mounted) {
                HostCommand.run(COMMAND, "umount", mnt.toString());
            }
            HostCommand.run(COMMAND, "losetup", "-d", dev);
        }

        NestedRig.Options options = RigOptions.named("stick-uefi", Duration.ofMinutes(8))
                .withMedium(new NestedRig.Medium(stick, true, true)).withDebugShell();
        try (NestedRig rig = NestedRig.start(image, options)) {
            rig.serial().waitFor("root=LABEL=HG-DATA \\((/dev/sd[a-z]2)\\) mounted read-only at /mnt/root", BOOT);
            HgShell shell = new HgShell(rig.serial());
            shell.awaitReady(BOOT);
            assertTrue(Pattern.compile("(?m)^0\\s+vmlinux-mine\\s").matcher(shell.ok("kernel_list", COMMAND)).find(),
                    "kernel_list does not offer the stick's kernel");
            assertTrue(Pattern.compile("(?m)^0\\s+mine\\.ext4\\s").matcher(shell.ok("image_list", COMMAND)).find(),
                    "image_list does not offer the stick's image");
            // The stick's images directory is bound read-only, as every guest_image= directory is.
            bootsAGuest(shell, "0 0 --ro");
        }
        // What hyper-gen left on the stick: a filesystem with no errors.
        String loop = HostCommand.run(COMMAND, "losetup", "--find", "--show", "--partscan", "--read-only", stick.toString()).strip();
        try {
            HostCommand.run(COMMAND, "partx", "-u", loop);
            HostCommand.run(COMMAND, "e2fsck", "-fn", loop + "p2");
        } finally {
            HostCommand.run(COMMAND, "losetup", "-d", loop);
        }
    }

    /** Boots hyper-gen.iso from a CD with an HG-DATA disk that holds only hyper-gen.cfg: the embedded guests. */
    private static NestedRig bootIso(Path tmp, String name, boolean uefi) {
        Path tree;
        Path disk = tmp.resolve("hg-data.ext4");
        try {
            tree = Files.createDirectories(tmp.resolve("hg-data"));
            Files.writeString(tree.resolve("hyper-gen.cfg"), hgExtra());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        HostCommand.run(COMMAND, "mke2fs", "-q", "-t", "ext4", "-L", "HG-DATA", "-d", tree.toString(), "-F", disk.toString(), "8M");
        NestedRig rig = NestedRig.start(image, RigOptions.named(name, Duration.ofMinutes(8))
                .withMedium(new NestedRig.Medium(image.dir().resolve("hyper-gen.iso"), false, uefi))
                .withDisk(disk).withDebugShell());
        try {
            // GRUB's menu is on the serial console too, and its default entry puts the consoles on both.
            rig.serial().waitFor(Pattern.quote("hyper-gen (screen and serial console)"), BOOT);
            ConsoleStream sh = rig.debugShell();
            sh.waitFor(NestedRig.DEBUG_PROMPT, BOOT);
            String cmdline = sh.run("cat /proc/cmdline", COMMAND).output();
            assertTrue(cmdline.contains("console=ttyS0,115200 console=tty0"), "the default entry's consoles: " + cmdline);
            assertFalse(cmdline.contains("root="), "a data disk without kernels/ or images/ passed root=: " + cmdline);
            String input = sh.run("cat /proc/bus/input/devices", COMMAND).output();
            assertTrue(input.contains("QEMU USB Keyboard"), "no USB keyboard among the input devices:\n" + input);
            assertFalse(input.contains("AT Translated"), "a PS/2 keyboard where the PC has none:\n" + input);
            return rig;
        } catch (RuntimeException | Error e) {
            rig.close();
            throw e;
        }
    }

    /**
     * The rig's words and the debug shell, as a user's own words reach the kernel from the data partition; and the
     * menu's wait cut to a second (a line of GRUB's, sourced before the menu shows).
     */
    private static String hgExtra() {
        return "set hg_extra=\"" + rigWords + " hg_debug_shell=ttyS1\"\nset timeout=1\n";
    }

    private static void showsTheShellOnTty3AndBootsTheDefaultGuest(NestedRig rig) {
        // ALT+F3 arrives through the USB keyboard: the PC has no other.
        VirtualTerminals.altF3ShowsTheShell(rig, rig.debugShell(), BOOT);
        HgShell shell = new HgShell(rig.serial());
        shell.awaitReady(BOOT);
        bootsAGuest(shell, "0 0");
    }

    private static void bootsAGuest(HgShell shell, String vmCreateArgs) {
        RigRetry.once(shell, "a guest of the installed hyper-gen", () -> {
            int id = GuestBoot.create(shell, vmCreateArgs, BOOT);
            String out = shell.guest("echo guest-says-$((6 * 7))", COMMAND);
            assertTrue(out.contains("guest-says-42"), "the guest's answer:\n" + out);
            shell.detach(id, COMMAND);
            assertEquals("vm " + id + " destroyed", shell.ok("vm_destroy " + id, COMMAND).strip());
        });
    }
}
