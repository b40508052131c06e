package hg.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.Timeout;

/**
 * What a guest wrote and synced is in its image afterwards, and the image is a consistent ext4
 * ({@code e2fsck -fn}), whether the VM was destroyed or its VMM process was killed. Checked inside
 * the nest, on the image the guest used, with this machine's e2fsck and debugfs added to the nest.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class GuestDataTest {
    private static final Duration GUEST_BOOT = Duration.ofMinutes(3);
    private static final Duration COMMAND = Duration.ofSeconds(60);
    /** Image 0 of the shell: the embedded busybox image, on the nest's initramfs. */
    private static final String IMAGE = "/usr/share/hyper-gen/images/busybox.ext4";
    private static final Pattern MD5 = Pattern.compile("\\b([0-9a-f]{32})\\b");

    /** What the first test wrote, checked again after the second. */
    private static String destroyedToken;

    @RegisterExtension
    static final ShellNest NEST = new ShellNest("guest-data", Duration.ofMinutes(10), (image, o) ->
            o.withInitrd(E2fsprogsInitrd.write(image, tempFile("initramfs-e2fsprogs.img"))).withDebugShell());

    /** The image as the boot image ships it must pass the same check, or the checks below prove nothing. */
    @BeforeAll
    static void theShippedImageIsClean() {
        fsck("the image before any guest used it");
    }


    @Test
    @Order(1)
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void whatAGuestSyncedIsInTheImageAfterVmDestroy() {
        RigRetry.once(NEST.shell(), "synced data after vm_destroy", () -> {
            int vm = GuestBoot.create(NEST.shell(), "0 0", GUEST_BOOT);
            destroyedToken = token();
            String md5 = writeAndSync(destroyedToken, "destroyed");
            NEST.shell().detach(vm, COMMAND);
            assertEquals("vm " + vm + " destroyed", NEST.shell().ok("vm_destroy " + vm, COMMAND).strip());

            fsck("the image after vm_destroy");
            assertImageHolds("destroyed", destroyedToken, md5);
        });
    }

    @Test
    @Order(2)
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void whatAGuestSyncedIsInTheImageAfterItsVmmIsKilled() {
        RigRetry.once(NEST.shell(), "synced data after a killed VMM", () -> {
            int vm = GuestBoot.create(NEST.shell(), "0 0", GUEST_BOOT);
            String token = token();
            String md5 = writeAndSync(token, "killed");

            // The process holding the image is the hyper-gen daemon's JVM, with the guest inside it.
            // (busybox here has no fuser: the same from /proc)
            String pid = NEST.host().run("for p in /proc/[0-9]*; do for f in $p/fd/*; do"
                    + " [ \"$(readlink $f)\" = " + IMAGE + " ] && echo ${p#/proc/} && break; done; done", COMMAND)
                    .output().strip();
            assertTrue(pid.matches("\\d+"), "not one process holds the image open: '" + pid + "'");
            assertEquals("java", NEST.host().run("cat /proc/" + pid + "/comm", COMMAND).output().strip(),
                    "the process holding the image");
            assertEquals(0, NEST.host().run("kill -9 " + pid + " && for i in $(seq 100); do kill -0 " + pid
                    + " 2>/dev/null || break; sleep 0.1; done; ! kill -0 " + pid + " 2>/dev/null", COMMAND).status(),
                    "the VMM process " + pid + " did not go away after kill -9");
            // The console's shell was attached: its stream ends there, and init starts a new daemon.
            NEST.rig().serial().waitFor(Pattern.quote("[vm " + vm + " stopped: the console stream ended"), COMMAND);
            NEST.rig().serial().waitFor(Pattern.quote("hyper-gen daemon: the API is served at"), ShellNest.BOOT);

            fsck("the image after its VMM process was killed (vm " + vm + " running in it)");
            assertImageHolds("killed", token, md5);
            assertImageHolds("destroyed", destroyedToken, null);

            // The new daemon has no VMs: they went with the process, and the shell says so once. (Its prompt
            // came before the new daemon's start-up lines: a fresh one first.)
            NEST.shell().resync(COMMAND);
            assertEquals("no VMs: vm_create <kernel id> <image id> makes one\n"
                    + "the hyper-gen daemon started again: vm " + vm + " was lost", NEST.shell().ok("vm_list", COMMAND).strip());
        });
    }

    @Test
    @Order(3)
    @Timeout(value = 6, unit = TimeUnit.MINUTES)
    void dataDisksReachTheGuestInOrderAndWhatItWroteOutlivesTheVm() {
        // Two more images beside the root one: a copy written by the guest, a copy it reads only.
        String dir = IMAGE.substring(0, IMAGE.lastIndexOf('/'));
        String data = dir + "/e2e-data.ext4";
        String ref = dir + "/e2e-ref.ext4";
        NEST.host().run("rm -f " + data + " " + ref + " && cp " + IMAGE + " " + data + " && cp " + IMAGE + " " + ref, COMMAND);
        String list = NEST.shell().ok("image_list", COMMAND);
        int dataId = imageId(list, "e2e-data.ext4");
        int refId = imageId(list, "e2e-ref.ext4");
        String token = token();
        RigRetry.once(NEST.shell(), "a guest with two data disks", () -> {
            int vm = GuestBoot.create(NEST.shell(), "0 0 --disk " + dataId + " --disk " + refId + ",ro", GUEST_BOOT);
            String seen = NEST.shell().guest("cat /sys/block/vdb/ro /sys/block/vdc/ro", COMMAND);
            assertEquals(List.of("0", "1"), seen.lines().map(String::strip).filter(l -> !l.isEmpty()).toList(),
                    "vdb read-write and vdc read-only in the guest");
            NEST.shell().guest("mkdir -p /mnt/b /mnt/c && mount /dev/vdb /mnt/b && mount -o ro /dev/vdc /mnt/c"
                    + " && echo " + token + " > /mnt/b/e2e-disk.txt && sync && test -d /mnt/c/etc"
                    + " && umount /mnt/b && umount /mnt/c", COMMAND);
            NEST.shell().detach(vm, COMMAND);

            // The read-write data disk is this VM's alone: another VM asking for it gets one line.
            String refusal = NEST.shell().refused("vm_create 0 0 --ro --disk " + dataId, COMMAND);
            assertEquals("error: image " + dataId + " (e2e-data.ext4) is in use read-write by vm " + vm + ": vm_destroy "
                    + vm + " first, or add ,ro to attach it read-only", refusal);
            String row = NEST.shell().ok("vm_list", COMMAND);
            assertTrue(row.contains("busybox.ext4, vdb=e2e-data.ext4, vdc=e2e-ref.ext4 (ro)"), "vm_list's disks:\n" + row);
            assertEquals("vm " + vm + " destroyed", NEST.shell().ok("vm_destroy " + vm, COMMAND).strip());
        });

        ConsoleStream.ShellResult r = NEST.host().run("e2fsck -fn " + data + " 2>&1", Duration.ofMinutes(2));
        assertEquals(0, r.status(), "e2fsck -fn of the data disk after vm_destroy:\n" + HgShell.clean(r.output()));
        RigRetry.once(NEST.shell(), "a second guest reads the data disk back", () -> {
            int vm = GuestBoot.create(NEST.shell(), "0 0 --ro --disk " + dataId + ",ro", GUEST_BOOT);
            String text = NEST.shell().guest("mkdir -p /mnt/b && mount -o ro /dev/vdb /mnt/b && cat /mnt/b/e2e-disk.txt"
                    + " && umount /mnt/b", COMMAND);
            assertTrue(text.contains(token), "the file the first guest wrote, read by the second:\n" + text);
            NEST.shell().detach(vm, COMMAND);
            assertEquals("vm " + vm + " destroyed", NEST.shell().ok("vm_destroy " + vm, COMMAND).strip());
        });
        NEST.host().run("rm -f " + data + " " + ref, COMMAND);
    }

    /** The id image_list gives {@code file}. */
    private static int imageId(String list, String file) {
        Matcher m = Pattern.compile("(?m)^(\\d+)\\s+" + Pattern.quote(file) + "\\s").matcher(list);
        assertTrue(m.find(), "image_list does not list " + file + ":\n" + list);
        return Integer.parseInt(m.group(1));
    }

    /** A file in a fresh temporary directory (the options are made before any test runs). */
    private static java.nio.file.Path tempFile(String name) {
        try {
            return java.nio.file.Files.createTempDirectory("hg-e2e-guest-data-").resolve(name);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static String token() {
        return "hg-e2e-" + HexFormat.of().formatHex(SecureRandom.getSeed(8));
    }

    /** In the attached guest: a small file and 1 MiB of random bytes, then sync; returns the bytes' MD5. */
    private static String writeAndSync(String token, String name) {
        String out = NEST.shell().guest("echo " + token + " > /e2e-" + name + ".txt"
                + " && dd if=/dev/urandom of=/e2e-" + name + ".bin bs=64k count=16 2>/dev/null"
                + " && md5sum /e2e-" + name + ".bin && sync", COMMAND);
        Matcher m = MD5.matcher(out);
        assertTrue(m.find(), "no md5sum from the guest:\n" + out);
        return m.group(1);
    }

    private static void fsck(String what) {
        ConsoleStream.ShellResult r = NEST.host().run("e2fsck -fn " + IMAGE + " 2>&1", Duration.ofMinutes(2));
        assertEquals(0, r.status(), "e2fsck -fn of " + what + " (exit status):\n" + HgShell.clean(r.output()));
    }

    /** Reads the files back out of the image with debugfs, no guest involved. */
    private static void assertImageHolds(String name, String token, String md5) {
        String text = NEST.host().run("debugfs -R 'cat /e2e-" + name + ".txt' " + IMAGE + " 2>/dev/null", COMMAND).output();
        assertEquals(token, HgShell.clean(text).strip(), "/e2e-" + name + ".txt in the image");
        if (md5 != null) {
            String sum = NEST.host().run("rm -f /tmp/e2e.bin && debugfs -R 'dump /e2e-" + name + ".bin /tmp/e2e.bin' " + IMAGE
                    + " 2>/dev/null && md5sum /tmp/e2e.bin", COMMAND).output();
            Matcher m = MD5.matcher(sum);
            assertTrue(m.find(), "could not dump /e2e-" + name + ".bin from the image:\n" + sum);
            assertEquals(md5, m.group(1), "MD5 of /e2e-" + name + ".bin in the image vs in the guest");
        }
    }
}
