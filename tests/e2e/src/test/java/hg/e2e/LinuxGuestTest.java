package hg.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.Timeout;

/**
 * A real Linux guest under hyper-gen's VMM: the boot image in the nest, its shell on the serial
 * console, the embedded 6.1 vmlinux booted with the embedded busybox ext4 image as its root on
 * virtio-blk. One nest for the class; each test makes its own guests and destroys them.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LinuxGuestTest {
    /** A guest boot takes 20-30 s in the nest when the machine is idle; several times that when it is busy. */
    private static final Duration GUEST_BOOT = Duration.ofMinutes(3);
    private static final Duration COMMAND = Duration.ofSeconds(60);


    @RegisterExtension
    static final ShellNest NEST = new ShellNest("linux-guest", Duration.ofMinutes(14));


    @Test
    @Order(1)
    @Timeout(value = 8, unit = TimeUnit.MINUTES)
    void aFileWrittenAndSyncedIsThereAfterDestroyAndANewBoot() {
        RigRetry.once(NEST.shell(), "a synced file outlives its VM", () -> {
            String token = "hg-e2e-" + HexFormat.of().formatHex(SecureRandom.getSeed(8));

            int first = GuestBoot.create(NEST.shell(), "0 0", GUEST_BOOT);
            String partitions = NEST.shell().guest("cat /proc/partitions", COMMAND);
            assertTrue(partitions.matches("(?s).*\\bvda\n.*"), "no vda in the guest's /proc/partitions:\n" + partitions);
            // The root the guest writes to is the ext4 image on that disk, read-write (not a tmpfs or an initramfs).
            String mounts = NEST.shell().guest("cat /proc/mounts", COMMAND);
            assertTrue(mounts.matches("(?s).*/dev/(root|vda) / ext4 rw[,\\s].*"), "/ is not the ext4 disk, read-write:\n" + mounts);
            NEST.shell().guest("echo " + token + " > /e2e-persist.txt && sync", COMMAND);
            NEST.shell().detach(first, COMMAND);
            assertEquals("vm " + first + " destroyed", NEST.shell().ok("vm_destroy " + first, COMMAND).strip());

            int second = GuestBoot.create(NEST.shell(), "0 0", GUEST_BOOT);
            assertNotEquals(first, second, "a new VM got the id of a destroyed one");
            assertEquals(token, NEST.shell().guest("cat /e2e-persist.txt", COMMAND).strip(),
                    "the file written and synced by vm " + first + " as read back by vm " + second);
            NEST.shell().detach(second, COMMAND);
            assertEquals("vm " + second + " destroyed", NEST.shell().ok("vm_destroy " + second, COMMAND).strip());
        });
    }

    @Test
    @Order(2)
    @Timeout(value = 6, unit = TimeUnit.MINUTES)
    void twoVcpusAreTwoProcessorsInTheGuest() {
        RigRetry.once(NEST.shell(), "two vCPUs", () -> {
            int vm = GuestBoot.create(NEST.shell(), "0 0 --cpus 2", GUEST_BOOT);
            assertEquals("2", NEST.shell().guest("nproc", COMMAND).strip(), "nproc in a guest made with --cpus 2");
            NEST.shell().detach(vm, COMMAND);
            String list = NEST.shell().ok("vm_list", COMMAND);
            assertTrue(list.matches("(?s).*(?m)^" + vm + "\\s+vmlinux-6\\.1\\s+busybox\\.ext4\\s+2\\s+.*\\brunning\\b.*"),
                    "vm_list does not show vm " + vm + " running with 2 vCPUs:\n" + list);
            NEST.shell().ok("vm_destroy " + vm, COMMAND);
        });
    }

    /**
     * A boot that is broken on purpose fails its test at once: no second boot and no retry counted.
     * The guest's init= names no file, so its kernel panics ("Requested init ... failed") right after
     * mounting its root; the base cmdline's panic=1 then resets it, but the panic line comes first.
     */
    @Test
    @Order(3)
    @Timeout(value = 4, unit = TimeUnit.MINUTES)
    void aGuestKernelPanicFailsTheBootWithoutARetry() {
        int retries = RetryBudget.SUITE.used();
        List<Integer> before = NEST.shell().made();
        HgShell.GuestLost lost = assertThrows(HgShell.GuestLost.class, () -> RigRetry.once(NEST.shell(), "a guest kernel panic",
                () -> GuestBoot.create(NEST.shell(), "0 0 --ro --cmdline \"init=/nonexistent\"", GUEST_BOOT)));
        assertTrue(lost.seen.startsWith("Kernel panic - not syncing: Requested init /nonexistent failed"),
                "the boot should have ended in the guest kernel's panic, not in: " + lost.seen);
        List<Integer> made = NEST.shell().made().stream().filter(id -> !before.contains(id)).toList();
        assertEquals(1, made.size(), "VMs made for the panicking boot (a second one would be a retry): " + made);
        assertEquals(retries, RetryBudget.SUITE.used(), "the suite's retry count after a panic");
        NEST.shell().resync(COMMAND);
        NEST.shell().ok("vm_destroy " + made.getFirst(), COMMAND);
    }

    /**
     * hyper-gen's default console is the virtio one (Linux's hvc0), where the boot log costs a notification per
     * 16 bytes instead of an exit per byte; a command line that names the UART gets the UART. Either way the
     * shell answers on vm_console, which types into both.
     */
    @Test
    @Order(4)
    @Timeout(value = 6, unit = TimeUnit.MINUTES)
    void theConsoleIsTheVirtioOneUnlessTheCommandLineNamesAnother() {
        RigRetry.once(NEST.shell(), "the guest's console", () -> {
            int vm = GuestBoot.create(NEST.shell(), "0 0 --ro", GUEST_BOOT);
            assertEquals("hvc0", NEST.shell().guest("cat /sys/class/tty/console/active", COMMAND).strip(),
                    "the console of a guest made without console= on its command line");
            NEST.shell().detach(vm, COMMAND);
            NEST.shell().ok("vm_destroy " + vm, COMMAND);
            int serial = GuestBoot.create(NEST.shell(), "0 0 --ro --cmdline \"console=ttyS0\"", GUEST_BOOT);
            assertEquals("ttyS0", NEST.shell().guest("cat /sys/class/tty/console/active", COMMAND).strip(),
                    "the console of a guest made with console=ttyS0");
            NEST.shell().detach(serial, COMMAND);
            NEST.shell().ok("vm_destroy " + serial, COMMAND);
        });
    }
}
