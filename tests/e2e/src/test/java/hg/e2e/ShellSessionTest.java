package hg.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.Timeout;

/**
 * A session in the hyper-gen shell on the boot image's serial console, as a user would have it: the
 * catalog, a guest made and attached to, CTRL+d back, a busy image refused, a read-only second VM,
 * everything destroyed. The steps run in order in one nest and build on each other.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ShellSessionTest {
    private static final Duration GUEST_BOOT = Duration.ofMinutes(3);
    private static final Duration COMMAND = Duration.ofSeconds(60);
    private static final Pattern VM_ROW = Pattern.compile(
            "(?m)^(\\d+)\\s+(\\S+)\\s+(\\S+(?: \\(ro\\))?)\\s+(\\d+)\\s+(\\S+ \\S+)\\s+(running|stopped: .*?)\\s+"
                    + "((?:\\d+d )?\\d+:\\d\\d:\\d\\d)\\s+(-|\\S+/\\d+ \\S+)$");

    /** The first VM, made read-write in {@link #aGuestAnswersOnItsConsoleAndKeepsRunningAfterCtrlD}. */
    private static int writer = -1;

    @RegisterExtension
    static final ShellNest NEST = new ShellNest("shell-session", Duration.ofMinutes(10));


    @Test
    @Order(1)
    @Timeout(value = 2, unit = TimeUnit.MINUTES)
    void theCatalogShowsTheEmbeddedKernelAndImage() {
        String kernels = NEST.shell().ok("kernel_list", COMMAND);
        assertTrue(kernels.matches("(?s)id\\s+file\\s+size\\s+kind\n.*(?m)^0\\s+vmlinux-6\\.1\\s+.*\\svmlinux\\s*$.*"),
                "kernel_list does not show the embedded vmlinux as kernel 0:\n" + kernels);
        String images = NEST.shell().ok("image_list", COMMAND);
        assertTrue(images.matches("(?s)id\\s+file\\s+size\\s+kind\n.*(?m)^0\\s+busybox\\.ext4\\s+.*\\sext4\\b.*"),
                "image_list does not show the embedded busybox.ext4 as image 0:\n" + images);
    }

    @Test
    @Order(2)
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void aGuestAnswersOnItsConsoleAndKeepsRunningAfterCtrlD() {
        RigRetry.once(NEST.shell(), "a guest answers on its console", () -> {
            writer = GuestBoot.create(NEST.shell(), "0 0", GUEST_BOOT);
            // Computed by the guest's shell: the typed line says $((6*7)), only the guest can answer 42.
            assertEquals("42", NEST.shell().guest("echo $((6*7))", COMMAND).strip(), "the guest's answer to echo $((6*7))");
            NEST.shell().detach(writer, COMMAND);
        });
        assertEquals(1, NEST.shell().made().getFirst(), "the id of the first VM of a new shell");

        List<String[]> vms = vmList();
        assertEquals(1, vms.size(), "vm_list after detaching: one VM");
        String[] row = vms.getFirst();
        assertEquals(String.valueOf(writer), row[0], "vm_list: id");
        assertEquals("vmlinux-6.1", row[1], "vm_list: kernel");
        assertEquals("busybox.ext4", row[2], "vm_list: image");
        assertEquals("1", row[3], "vm_list: vCPUs");
        assertEquals("running", row[5], "vm_list: state of the detached VM");
        // The boot image's kernel has vhost-net, so the card's frames move in the kernel.
        assertTrue(row[7].matches("172\\.30\\.\\d+\\.\\d+/16 vhost-net"),
                "vm_list: the boot image's shell gives a guest a vhost-net card by default, got " + row[7]);
    }

    @Test
    @Order(3)
    @Timeout(value = 2, unit = TimeUnit.MINUTES)
    void aSecondReadWriteVmOfTheSameImageIsRefusedWithOneLine() {
        assumeTrue(writer > 0, "no first VM (an earlier step failed)");
        String error = NEST.shell().refused("vm_create 0 0", COMMAND);
        assertTrue(error.contains("in use") && error.contains("vm " + writer),
                "the refusal should say the image is in use and by which VM: " + error);
        // Nothing half-made: still only the first VM.
        assertEquals(1, vmList().size(), "vm_list after the refused vm_create");
    }

    @Test
    @Order(4)
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void aReadOnlyVmOfTheSameImageBootsWhileTheFirstWritesIt() {
        assumeTrue(writer > 0, "no first VM (an earlier step failed)");
        int[] reader = {-1};
        RigRetry.once(NEST.shell(), "a read-only second VM", () -> {
            reader[0] = GuestBoot.create(NEST.shell(), "0 0 --ro", GUEST_BOOT);
            String root = NEST.shell().guest("grep ' / ' /proc/mounts", COMMAND);
            assertTrue(root.matches("(?s)\\S+ / ext4 ro[,\\s].*"), "the --ro guest's root is not mounted read-only:\n" + root);
            String touch = NEST.shell().guest("touch /e2e-ro-probe; echo status=$?", COMMAND);
            assertFalse(touch.contains("status=0"), "the --ro guest could write to its root:\n" + touch);
            NEST.shell().detach(reader[0], COMMAND);
        });
        List<String[]> vms = vmList();
        assertEquals(2, vms.size(), "vm_list with the writer and the read-only VM");
        String[] row = vms.stream().filter(r -> r[0].equals(String.valueOf(reader[0]))).findFirst().orElseThrow();
        assertEquals("busybox.ext4 (ro)", row[2], "vm_list: image of the --ro VM");
        assertEquals("running", row[5], "vm_list: state of the --ro VM");
    }

    @Test
    @Order(5)
    @Timeout(value = 2, unit = TimeUnit.MINUTES)
    void destroyingEveryVmLeavesTheListEmpty() {
        List<String[]> vms = vmList();
        assertFalse(vms.isEmpty(), "no VMs left to destroy: an earlier step failed");
        for (String[] vm : vms) {
            assertEquals("vm " + vm[0] + " destroyed", NEST.shell().ok("vm_destroy " + vm[0], COMMAND).strip());
        }
        assertEquals("no VMs: vm_create <kernel id> <image id> makes one", NEST.shell().ok("vm_list", COMMAND).strip());
    }

    /** vm_list's rows: id, kernel, image, vcpus, memory, state, uptime, net. */
    private static List<String[]> vmList() {
        String out = NEST.shell().ok("vm_list", COMMAND);
        if (out.strip().startsWith("no VMs")) {
            return List.of();
        }
        assertTrue(out.startsWith("id  kernel"), "vm_list has no header:\n" + out);
        List<String[]> rows = new java.util.ArrayList<>();
        Matcher m = VM_ROW.matcher(out);
        while (m.find()) {
            rows.add(new String[] {m.group(1), m.group(2), m.group(3), m.group(4), m.group(5), m.group(6), m.group(7), m.group(8)});
        }
        // The header, a row per VM, and with cards the line that says where guests' network reaches.
        long network = out.lines().filter(l -> l.startsWith("network: ")).count();
        assertEquals(out.strip().lines().count() - 1 - network, rows.size(), "vm_list rows not understood:\n" + out);
        return rows;
    }
}
