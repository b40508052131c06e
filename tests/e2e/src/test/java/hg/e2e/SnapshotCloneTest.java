package hg.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A Linux guest snapshotted, stopped and restored in the nest keeps what it had in RAM only and on
 * its disk, its wall clock lost nothing while the snapshot lay on disk and its console answers; three clones of it each see that RAM,
 * write their disks without seeing each other's writes, and leave the frozen image they share
 * untouched; a damaged snapshot is refused with one line.
 */
class SnapshotCloneTest {
    private static final Duration GUEST_BOOT = Duration.ofMinutes(3);
    private static final Duration COMMAND = Duration.ofSeconds(60);
    private static final String DIR = "/tmp/e2e-snap";
    private static final Pattern MD5 = Pattern.compile("\\b([0-9a-f]{32})\\b");

    @RegisterExtension
    static final ShellNest NEST = new ShellNest("snapshot-clone", Duration.ofMinutes(12), (image, o) -> o.withDebugShell());

    private static long offsetBefore;

    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES)
    void aRestoredGuestAndItsClonesKeepTheirRamAndDisks() {
        String nonce = "hg-e2e-" + HexFormat.of().formatHex(SecureRandom.getSeed(8));
        String file = "hg-e2e-" + HexFormat.of().formatHex(SecureRandom.getSeed(8));
        HgShell shell = NEST.shell();
        RigRetry.once(shell, "a guest to snapshot", () -> {
            // 256 MiB: the restored guest and its three clones are each counted in full against the nest's memory.
            int vm = GuestBoot.create(shell, "0 0 --no-net --mem 256M", GUEST_BOOT);
            // The nonce lives in a tmpfs only: after the restore it can come from nowhere but the saved RAM.
            shell.guest("mkdir -p /ram && mount -t tmpfs none /ram && echo " + nonce + " > /ram/nonce"
                    + " && echo " + file + " > /e2e-file && sync", COMMAND);
            offsetBefore = guestClockOffset(shell, "before the snapshot");
            shell.detach(vm, COMMAND);
        });
        int vm = shell.made().getLast();

        String taken = shell.ok("vm_snapshot " + vm + " " + DIR + " --stop", COMMAND).strip();
        assertTrue(taken.startsWith("vm " + vm + ": snapshot in " + DIR), taken);
        System.out.println("e2e: " + taken);
        String list = shell.ok("vm_list", COMMAND);
        assertTrue(list.contains("no VMs") || !Pattern.compile("(?m)^\\s*" + vm + "\\s").matcher(list).find(),
                "--stop destroyed the VM:\n" + list);

        // Some time on disk, more than the clock check's slack: a restore that did not make it up would show.
        NEST.host().run("sleep 6", COMMAND);
        long t0 = System.nanoTime();
        int restored = id(shell.ok("vm_restore " + DIR, COMMAND));
        shell.attach(restored, COMMAND);
        String seen = shell.guest("cat /ram/nonce /e2e-file", COMMAND);
        System.out.printf("e2e: vm_restore to the guest's answer %.2f s%n", (System.nanoTime() - t0) / 1e9);
        assertTrue(seen.contains(nonce), "the nonce kept in RAM only, after the restore:\n" + seen);
        assertTrue(seen.contains(file), "the file on the disk, after the restore:\n" + seen);
        System.out.println("e2e: the restored guest's clocksource: "
                + shell.guest("cat /sys/devices/system/clocksource/clocksource0/current_clocksource", COMMAND).strip());
        // In the nest a guest's clock is a few seconds behind from its boot on (its early timekeeping
        // loses time under TCG); the restore must not add to that: the time on disk is made up.
        long offsetAfter = guestClockOffset(shell, "after the restore");
        assertTrue(Math.abs(offsetAfter - offsetBefore) <= 2, "the restored guest's clock is " + offsetAfter
                + " s off the host's, " + offsetBefore + " s before the snapshot");
        shell.detach(restored, COMMAND);

        String clonedOut = shell.ok("vm_clone " + restored + " --count 3", COMMAND);
        List<Integer> clones = ids(clonedOut);
        assertEquals(3, clones.size(), "three clone ids:\n" + clonedOut);
        String frozen = NEST.host().run("ls -d /run/hyper-gen/clones/*/vda.img /tmp/hyper-gen-clones/*/vda.img 2>/dev/null | head -1",
                COMMAND).output().strip();
        assertTrue(frozen.endsWith("vda.img"), "the clones' frozen disk: '" + frozen + "'");
        String frozenSum = md5("md5sum " + frozen);
        for (int c : clones) {
            shell.attach(c, COMMAND);
            String ram = shell.guest("cat /ram/nonce && echo clone-" + c + " > /e2e-clone && sync", COMMAND);
            assertTrue(ram.contains(nonce), "clone " + c + " sees the parent's RAM:\n" + ram);
            shell.detach(c, COMMAND);
        }
        for (int c : clones) {
            shell.attach(c, COMMAND);
            String own = shell.guest("cat /e2e-clone", COMMAND);
            assertTrue(own.contains("clone-" + c), "clone " + c + " reads its own write:\n" + own);
            for (int other : clones) {
                assertTrue(other == c || !own.contains("clone-" + other + "\n") && !own.strip().endsWith("clone-" + other),
                        "clone " + c + " sees clone " + other + "'s write:\n" + own);
            }
            shell.detach(c, COMMAND);
        }
        assertEquals(frozenSum, md5("md5sum " + frozen), "the frozen image the clones share is unchanged");

        shell.ok("vm_snapshot " + restored + " " + DIR + "-bad", COMMAND);
        NEST.host().run("printf X | dd of=" + DIR + "-bad/state bs=1 seek=200 conv=notrunc 2>/dev/null", COMMAND);
        String refusal = shell.refused("vm_restore " + DIR + "-bad", COMMAND);
        assertEquals("error: snapshot " + DIR + "-bad refused: the state file is damaged (its checksum does not match)",
                refusal);
        for (int c : clones) {
            shell.ok("vm_destroy " + c, COMMAND);
        }
        shell.ok("vm_destroy " + restored, COMMAND);
    }

    /**
     * A guest whose card vhost-net serves: its rings' positions come back from the host kernel for
     * the snapshot and go to it again on restore, so the restored guest's network works at once.
     * Its clones each get a MAC and address of their own and random numbers apart from each other's,
     * through their agents, and reach the bridge and the host them.
     */
    @Test
    @Timeout(value = 8, unit = TimeUnit.MINUTES)
    void aRestoredGuestsNetworkWorksAndItsClonesGetTheirOwn() {
        HgShell shell = NEST.shell();
        RigRetry.once(shell, "a networked guest to snapshot", () -> {
            int vm = GuestBoot.create(shell, "0 0 --mem 256M", GUEST_BOOT);
            shell.guest("ping -c 2 -W 10 172.30.0.1", COMMAND);
            shell.detach(vm, COMMAND);
        });
        int vm = shell.made().getLast();
        String before = shell.ok("vm_list", COMMAND);
        shell.ok("vm_snapshot " + vm + " " + DIR + "-net --stop", COMMAND);
        int restored = id(shell.ok("vm_restore " + DIR + "-net", COMMAND));
        String after = shell.ok("vm_list", COMMAND);
        assertTrue(after.contains("vhost-net") == before.contains("vhost-net"),
                "the restored card keeps its data path:\n" + before + "\n" + after);
        shell.attach(restored, COMMAND);
        shell.guest("ping -c 3 -W 10 172.30.0.1", COMMAND);
        shell.detach(restored, COMMAND);
        assertEquals(0, NEST.host().run("ping -c 2 -W 10 172.30.0." + (vm + 1), COMMAND).status(),
                "the host reaches the restored guest at its old address");

        long t0 = System.nanoTime();
        String clonedOut = shell.ok("vm_clone " + restored + " --count 2", COMMAND);
        System.out.printf("e2e: vm_clone --count 2 of a networked guest, identities given: %.2f s wall%n",
                (System.nanoTime() - t0) / 1e9);
        List<Integer> clones = ids(clonedOut);
        assertEquals(2, clones.size(), "two clone ids:\n" + clonedOut);
        String list = HgShell.clean(shell.ok("vm_list", COMMAND));
        java.util.Set<String> macs = new java.util.HashSet<>(), randoms = new java.util.HashSet<>();
        macs.add(guestOutput(shell, restored, "cat /sys/class/net/eth0/address"));
        for (int c : clones) {
            String mac = guestOutput(shell, c, "cat /sys/class/net/eth0/address");
            assertTrue(macs.add(mac), "clone " + c + " has a MAC of its own: " + mac + " among " + macs);
            String line = list.lines().filter(l -> l.strip().startsWith(c + " ")).findFirst().orElse("");
            Matcher address = Pattern.compile("172\\.30\\.\\d+\\.\\d+(?=/16)").matcher(line);
            assertTrue(address.find(), "vm_list shows clone " + c + "'s address:\n" + list);
            String inGuest = guestOutput(shell, c, "ip -4 addr show eth0");
            assertTrue(inGuest.contains(address.group() + "/16") && !inGuest.contains("172.30.0." + (vm + 1) + "/"),
                    "clone " + c + " has its own address " + address.group() + " and not its parent's:\n" + inGuest);
            guestOutput(shell, c, "ping -c 2 -W 10 172.30.0.1");
            assertEquals(0, NEST.host().run("ping -c 2 -W 10 " + address.group(), COMMAND).status(),
                    "the host reaches clone " + c + " at " + address.group());
            assertTrue(randoms.add(guestOutput(shell, c, "head -c 16 /dev/urandom | od -An -tx1")),
                    "clone " + c + "'s random numbers are its own: " + randoms);
        }
        assertEquals(0, NEST.host().run("ping -c 2 -W 10 172.30.0." + (vm + 1), COMMAND).status(),
                "the parent keeps its address");
        for (int c : clones) {
            shell.ok("vm_destroy " + c, COMMAND);
        }
        shell.ok("vm_destroy " + restored, COMMAND);
    }

    /** What {@code command} printed in VM {@code vm}, run through its agent; it must exit with 0. */
    private static String guestOutput(HgShell shell, int vm, String command) {
        String out = HgShell.clean(shell.ok("vm_exec " + vm + " -- sh -c '" + command + "'", COMMAND));
        assertFalse(out.contains("exit status"), "vm " + vm + ": " + command + ":\n" + out);
        return out.strip();
    }

    /** Seconds the attached guest's clock is ahead of the host's (read just before and after it), logged. */
    private static long guestClockOffset(HgShell shell, String when) {
        long hostBefore = Long.parseLong(lastNumber(NEST.host().run("date +%s", COMMAND).output()));
        long guest = Long.parseLong(lastNumber(shell.guest("date +%s", COMMAND)));
        long hostAfter = Long.parseLong(lastNumber(NEST.host().run("date +%s", COMMAND).output()));
        System.out.printf("e2e: clocks %s: host %d, guest %d, host %d%n", when, hostBefore, guest, hostAfter);
        return guest - (hostBefore + hostAfter) / 2;
    }

    private static String md5(String command) {
        Matcher m = MD5.matcher(NEST.host().run(command, Duration.ofMinutes(2)).output());
        assertTrue(m.find(), "no MD5 from: " + command);
        return m.group(1);
    }

    private static int id(String out) {
        List<Integer> ids = ids(out);
        assertEquals(1, ids.size(), "one vm id:\n" + out);
        return ids.getFirst();
    }

    /** The ids printed alone on a line, or as a space-separated list on one line. */
    private static List<Integer> ids(String out) {
        List<Integer> ids = new ArrayList<>();
        for (String line : HgShell.clean(out).lines().map(String::strip).toList()) {
            if (line.matches("\\d+( \\d+)*")) {
                for (String n : line.split(" ")) {
                    ids.add(Integer.parseInt(n));
                }
            }
        }
        return ids;
    }

    private static String lastNumber(String out) {
        Matcher m = Pattern.compile("(\\d{9,})").matcher(out);
        String last = null;
        while (m.find()) {
            last = m.group(1);
        }
        assertTrue(last != null, "no number in:\n" + out);
        return last;
    }
}
