package hg.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.Timeout;

/**
 * Guests on the boot image's host bridge, in the nest: the boot image's shell gives every guest a
 * virtio-net card on a TAP in hgbr0 unless told --no-net. Two guests ping each other and the host,
 * and destroyed VMs leave no TAP behind, also after many create/destroy cycles. The nest's kernel
 * has vhost-net, so cards use it unless vm_create says --no-vhost: vm_list says which, each vhost
 * card gets a vhost worker while it runs and none is left after, and a guest driver that resets
 * its card (unbind and bind) gets a working link again on vhost-net. A VM made while /dev/vhost-net
 * is hidden gets the Java data path. 64 MiB cross between the host and a guest on each data path,
 * intact in both directions (busybox nc, md5 on both ends). A guest that sends from an address not
 * its own is not heard (the boot image's guest filter). The nest's own root shell (ttyS1) is the
 * host side.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class GuestNetworkTest {
    private static final Duration GUEST_BOOT = Duration.ofMinutes(3);
    private static final Duration COMMAND = Duration.ofSeconds(60);
    /** 64 MiB through the nested guest's virtio-net and md5 on both ends, under TCG. */
    private static final Duration TRANSFER = Duration.ofMinutes(6);
    private static final String BRIDGE_ADDRESS = "172.30.0.1";
    /** An address of the guest network no guest here has. */
    private static final String SPOOFED = "172.30.0.250";
    private static final long BLOB_BYTES = 64L << 20;
    /** Enough cycles for a leaked TAP, vhost worker or fd per VM to show; VmNetTest runs more without the nest. */
    private static final int CYCLES = 30;
    private static final Pattern MD5 = Pattern.compile("\\b([0-9a-f]{32})\\b");
    private static final Pattern TAP = Pattern.compile("\\bhgvm\\d+\\b");
    /** vhost-net's worker: a kernel thread named after the VMM's pid, one per card while it runs. */
    private static final Pattern VHOST_WORKER = Pattern.compile("\\[vhost-\\d+\\]");

    private static int first = -1;
    private static int second = -1;
    private static String firstAddress;

    /** What the nest's uplink leads to: one web server, http://10.0.2.100/ (QEMU's user network, restrict=on). */
    private static final java.nio.file.Path WWW = outsideServer();
    private static final String TOKEN = "beyond-" + Long.toHexString(System.nanoTime());

    @RegisterExtension
    static final ShellNest NEST = new ShellNest("guest-net", Duration.ofMinutes(25),
            (image, o) -> o.withDebugShell().withUplinkWww(WWW));

    private static java.nio.file.Path outsideServer() {
        try {
            java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("hg-e2e-www-");
            dir.toFile().deleteOnExit();
            return dir;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    @Order(1)
    @Timeout(value = 10, unit = TimeUnit.MINUTES)
    void twoGuestsOnTheBridgeReachEachOtherAndTheHost() {
        RigRetry.once(NEST.shell(), "two guests ping", () -> {
            first = GuestBoot.create(NEST.shell(), "0 0", GUEST_BOOT);
            firstAddress = guestAddress();
            NEST.shell().guest("ping -c 3 -W 10 " + BRIDGE_ADDRESS, COMMAND);
            // From an address not its own the guest is not heard: the bridge drops its ARP and IPv4.
            NEST.shell().guest("ip addr add " + SPOOFED + "/16 dev eth0 && { ping -c 2 -W 3 -I " + SPOOFED + " "
                    + BRIDGE_ADDRESS + "; r=$?; ip addr del " + SPOOFED + "/16 dev eth0; [ $r -ne 0 ]; }", COMMAND);
            NEST.shell().detach(first, COMMAND);
            assertTrue(hostOk("/usr/sbin/nft list chain bridge hyper-gen guests").matches("(?s).*counter packets [1-9].*"),
                    "the guest filter is loaded and dropped the spoofed frames");
            assertFalse(hostOk("ip neigh show " + SPOOFED).contains("lladdr"), "the host learnt the spoofed address");

            // The second is told to keep its frames in hyper-gen: the two data paths meet on the bridge.
            second = GuestBoot.create(NEST.shell(), "0 0 --ro --no-vhost", GUEST_BOOT);
            String secondAddress = guestAddress();
            assertNotEquals(firstAddress, secondAddress, "two guests on the bridge with one address");
            NEST.shell().guest("ping -c 3 -W 10 " + firstAddress, COMMAND);
            NEST.shell().detach(second, COMMAND);
            assertEquals(0, NEST.host().run("ping -c 3 -W 10 " + secondAddress, COMMAND).status(),
                    "the host cannot ping vm " + second + " at " + secondAddress);

            String list = NEST.shell().ok("vm_list", COMMAND);
            assertNetColumn(list, first, firstAddress + "/16", "vhost-net");
            assertNetColumn(list, second, secondAddress + "/16", "java");
        });
        assertEquals(2, taps().size(), "TAPs on hgbr0 with two guests: " + taps());
        assertEquals(1, vhostWorkers().size(), "vhost-net workers in the nest with one guest on it: " + vhostWorkers());
    }

    @Test
    @Order(2)
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void aGuestDriverThatResetsItsCardGetsAWorkingLinkBack() {
        assumeTrue(first > 0, "no first guest (an earlier step failed)");
        NEST.shell().attach(first, COMMAND);
        // Unbinding resets the device (status 0): vhost-net lets go of the rings; binding sets it up anew.
        String dev = "$(basename $(readlink /sys/class/net/eth0/device))";
        NEST.shell().guest("d=" + dev + "; echo $d > /sys/bus/virtio/drivers/virtio_net/unbind"
                + " && ! [ -e /sys/class/net/eth0 ] && echo $d > /sys/bus/virtio/drivers/virtio_net/bind", COMMAND);
        NEST.shell().guest("ip addr add " + firstAddress + "/16 dev eth0 && ip link set eth0 up", COMMAND);
        NEST.shell().guest("ping -c 3 -W 10 " + BRIDGE_ADDRESS, COMMAND);
        NEST.shell().detach(first, COMMAND);
        assertEquals("vhost-net", dataPath(first), "the re-initialised card fell back to the Java path");
        System.out.printf("e2e: vm %d's driver reset its card; the link works again over %s%n", first, dataPath(first));
    }

    @Test
    @Order(3)
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void aDestroyedVmsTapIsGone() {
        assumeTrue(first > 0 && second > 0, "no guests (an earlier step failed)");
        NEST.shell().ok("vm_destroy " + second, COMMAND);
        assertEquals(1, taps().size(), "TAPs on hgbr0 after destroying one of two guests: " + taps());
        NEST.shell().ok("vm_destroy " + first, COMMAND);
        assertEquals(List.of(), allTaps(), "TAPs left in the nest after destroying every guest");
        assertEquals(List.of(), vhostWorkers(), "vhost-net workers left in the nest after destroying every guest");
    }

    @Test
    @Order(4)
    @Timeout(value = 20, unit = TimeUnit.MINUTES)
    void sixtyFourMibCrossEachDataPathIntactBothWays() {
        Runnable undo = () -> hostOk("killall sleep nc 2>/dev/null; rm -f /tmp/down /tmp/up.md5; true");
        RigRetry.once(NEST.shell(), "64 MiB each way over vhost-net", () -> vmCarries("vhost-net", BLOB_BYTES), undo);
        RigRetry.once(NEST.shell(), "64 MiB each way over the Java path", () -> vmCarries("java", BLOB_BYTES), undo);
    }

    /**
     * A VM whose card is on {@code path} (vhost-net, the default here; java, made while
     * /dev/vhost-net is hidden), and {@code bytes} crossing it both ways.
     */
    private static void vmCarries(String path, long bytes) {
        boolean hidden = path.equals("java");
        if (hidden) {
            hostOk("mv /dev/vhost-net /dev/vhost-net.hidden");
        }
        int vm;
        try {
            vm = GuestBoot.create(NEST.shell(), "0 0 --ro", GUEST_BOOT);
        } finally {
            if (hidden) {
                hostOk("mv /dev/vhost-net.hidden /dev/vhost-net");
            }
        }
        String address = guestAddress();
        NEST.shell().guest("ping -c 3 -W 10 " + BRIDGE_ADDRESS, COMMAND);
        NEST.shell().detach(vm, COMMAND);
        assertNetColumn(NEST.shell().ok("vm_list", COMMAND), vm, address + "/16", path);
        assertEquals(hidden ? 0 : 1, vhostWorkers().size(), "vhost-net workers with one VM on " + path);
        crossBothWays(vm, address, bytes, path);
        NEST.shell().ok("vm_destroy " + vm, COMMAND);
    }

    @Test
    @Order(5)
    @Timeout(value = 15, unit = TimeUnit.MINUTES)
    void manyCreateDestroyCyclesLeaveNoTap() {
        long t0 = System.nanoTime();
        for (int i = 0; i < CYCLES; i++) {
            int vm = NEST.shell().vmCreate("0 0 --ro --mem 64M", COMMAND);
            NEST.shell().ok("vm_destroy " + vm, COMMAND);
        }
        System.out.printf("e2e: %d vm_create/vm_destroy cycles with a network card in %.1f s%n", CYCLES,
                (System.nanoTime() - t0) / 1e9);
        assertEquals(List.of(), allTaps(), "TAPs left in the nest after " + CYCLES + " create/destroy cycles");
        assertEquals(List.of(), vhostWorkers(), "vhost-net workers left after " + CYCLES + " create/destroy cycles");
        assertEquals("no VMs: vm_create <kernel id> <image id> makes one", NEST.shell().ok("vm_list", COMMAND).strip());
    }

    @Test
    @Order(6)
    @Timeout(value = 6, unit = TimeUnit.MINUTES)
    void aGuestFetchesAFileFromBeyondTheHostThroughTheUplink() throws java.io.IOException {
        java.nio.file.Files.writeString(WWW.resolve("file"), TOKEN + "\n");
        // The nest's card is its uplink: init found it by its carrier, udhcpc got it QEMU's lease, the daemon masquerades.
        assertTrue(hostOk("cat /etc/hyper-gen/guests").contains("HG_UPLINK='eth0'"), "init took eth0 as the uplink");
        long deadline = System.nanoTime() + COMMAND.toNanos();
        String address = hostOk("ip -4 -o addr show dev eth0");
        while (!address.contains("inet 10.0.2.15/") && System.nanoTime() < deadline) {
            sleep(Duration.ofSeconds(1));
            address = hostOk("ip -4 -o addr show dev eth0");
        }
        assertTrue(address.contains("inet 10.0.2.15/"), "udhcpc gave the uplink QEMU's lease: " + address);
        assertTrue(hostOk("/usr/sbin/nft list table ip hyper-gen-uplink").contains("masquerade"), "the NAT table is loaded");
        RigRetry.once(NEST.shell(), "a guest behind the uplink", () -> {
            int vm = GuestBoot.create(NEST.shell(), "0 0 --ro --mem 128M", GUEST_BOOT);
            String got = NEST.shell().guest("wget -q -O /tmp/f http://10.0.2.100/file && cat /tmp/f", COMMAND);
            assertTrue(got.contains(TOKEN), "the guest fetched the file from beyond the host:\n" + got);
            NEST.shell().detach(vm, COMMAND);
            String list = NEST.shell().ok("vm_list", COMMAND);
            assertTrue(list.contains("network: guests on the bridge reach beyond this host through eth0 (NAT)"), list);
            NEST.shell().ok("vm_destroy " + vm, COMMAND);
        });
        System.out.println("e2e: a guest fetched http://10.0.2.100/file through the nest's uplink (NAT)");
    }

    /**
     * {@code bytes} of random data from the attached-to guest {@code vm} (at {@code address}) to
     * the host and back the other way, busybox nc on both ends, md5 compared on both ends. Both
     * senders run in the background, so a stream that stalls leaves both consoles free to say
     * where its frames stopped.
     */
    private static void crossBothWays(int vm, String address, long bytes, String path) {
        try {
            crossBothWaysAttached(vm, address, bytes, path);
        } catch (AssertionError e) {
            // The guest's console (or the shell) stopped answering: what the VMM and the nest's kernel were doing.
            e.addSuppressed(new AssertionError("evidence from the nest:\n" + vmmEvidence()));
            throw e;
        }
    }

    private static void crossBothWaysAttached(int vm, String address, long bytes, String path) {
        NEST.shell().attach(vm, COMMAND);
        // Guest to host: the host's nc listens (its stdin held open, so only the sender's close ends it).
        hostOk(inBackground("sleep 900 | nc -l -p 5001 | md5sum > /tmp/up.md5"));
        String sent = md5(NEST.shell().guest("mount -t tmpfs -o size=150m tmpfs /mnt && head -c " + bytes
                + " /dev/urandom > /mnt/up && md5sum /mnt/up", TRANSFER));
        long t0 = System.nanoTime();
        NEST.shell().guest(inBackground(untilConnected("nc " + BRIDGE_ADDRESS + " 5001 < /mnt/up")), COMMAND);
        String received = awaitFile(command -> NEST.host().run(command, COMMAND).output(), "/tmp/up.md5", TRANSFER,
                "guest to host on " + path);
        System.out.printf("e2e: guest to host: %.1f MiB in %.1f s (nc, nest, %s)%n", bytes / 1048576.0,
                (System.nanoTime() - t0) / 1e9, path);
        assertEquals(sent, received, "md5 of what the guest sent and the host received");

        // Host to guest: now the guest listens.
        String offered = md5(hostOk("head -c " + bytes + " /dev/urandom > /tmp/down && md5sum /tmp/down"));
        NEST.shell().guest("rm /mnt/up; " + inBackground("sleep 900 | nc -l -p 5002 | md5sum > /mnt/down.md5"), COMMAND);
        t0 = System.nanoTime();
        hostOk(inBackground(untilConnected("nc " + address + " 5002 < /tmp/down")));
        String got = awaitFile(command -> NEST.shell().guest(command + "; true", COMMAND), "/mnt/down.md5", TRANSFER,
                "host to guest on " + path);
        System.out.printf("e2e: host to guest: %.1f MiB in %.1f s (nc, nest, %s)%n", bytes / 1048576.0,
                (System.nanoTime() - t0) / 1e9, path);
        assertEquals(offered, got, "md5 of what the host sent and the guest received");
        hostOk("rm -f /tmp/down /tmp/up.md5; killall sleep || true");
        NEST.shell().guest("killall sleep; umount /mnt", COMMAND);
        NEST.shell().detach(vm, COMMAND);
    }

    /**
     * Where a stalled stream's frames stopped, from both ends while the attached guest still
     * answers: its card's interrupts and counters and its TCP sockets, the bridge ports' counters
     * (a TAP's drops are frames its VMM did not read) and the host's sockets.
     */
    private static String stallEvidence() {
        StringBuilder b = new StringBuilder();
        evidence(b, "guest", () -> NEST.shell().guest("grep -E 'CPU|virtio' /proc/interrupts; cat /proc/net/dev;"
                + " netstat -tn; true", COMMAND));
        evidence(b, "host", () -> NEST.host().run("ip -s link show master hgbr0; netstat -tn; true", COMMAND).output());
        return b.toString();
    }

    /**
     * Each thread of the nest's JVMs (the daemon's, the shells'): its name, its state (R runs, S and D wait) and
     * the kernel function it waits in; the nest's interrupts and its kernel's last lines.
     */
    private static String vmmEvidence() {
        StringBuilder b = new StringBuilder();
        evidence(b, "threads", () -> NEST.host().run("for p in $(pidof java); do for t in /proc/$p/task/*; do"
                + " echo \"$p $(cat $t/comm) $(sed 's/.*) //' $t/stat | cut -d' ' -f1) $(cat $t/wchan)\"; done; done; true", COMMAND).output());
        evidence(b, "kernel", () -> NEST.host().run("cat /proc/interrupts; dmesg | tail -30; true", COMMAND).output());
        return b.toString();
    }

    private static void evidence(StringBuilder b, String side, java.util.function.Supplier<String> read) {
        b.append("--- ").append(side).append(":\n");
        try {
            b.append(read.get().strip()).append('\n');
        } catch (RuntimeException | AssertionError e) {
            b.append("(no answer: ").append(e.getMessage()).append(")\n");
        }
    }

    /** vm_list's row for {@code vm} ends in its address and data path; prints the row as evidence. */
    private static void assertNetColumn(String list, int vm, String address, String dataPath) {
        Matcher row = Pattern.compile("(?m)^" + vm + "\\s.*$").matcher(list);
        assertTrue(row.find(), "vm_list has no row for vm " + vm + ":\n" + list);
        System.out.println("e2e: vm_list: " + row.group().strip());
        assertTrue(row.group().strip().endsWith(address + " " + dataPath),
                "vm_list does not show vm " + vm + " at " + address + " on " + dataPath + ":\n" + list);
    }

    /** The data path vm_list shows for {@code vm}. */
    private static String dataPath(int vm) {
        Matcher row = Pattern.compile("(?m)^" + vm + "\\s.*\\s(\\S+)$").matcher(NEST.shell().ok("vm_list", COMMAND));
        assertTrue(row.find(), "vm_list has no row for vm " + vm);
        return row.group(1);
    }

    private static List<String> vhostWorkers() {
        return VHOST_WORKER.matcher(hostOk("ps")).results().map(java.util.regex.MatchResult::group).toList();
    }

    /** The attached guest's IPv4 address on eth0, as its own kernel has it. */
    private static String guestAddress() {
        String out = NEST.shell().guest("ip -4 -o addr show dev eth0", COMMAND);
        Matcher m = Pattern.compile("inet (172\\.30\\.\\d+\\.\\d+)/16").matcher(out);
        assertTrue(m.find(), "eth0 has no address on the guest network:\n" + out);
        return m.group(1);
    }

    /** {@code pipeline} started in the background, as one command a shell step can run (a bare "&" cannot take "; more"). */
    private static String inBackground(String pipeline) {
        return "{ (" + pipeline + ") >/dev/null 2>&1 & }";
    }

    /** A sender may start before its receiver listens (both start asynchronously): it tries again. */
    private static String untilConnected(String nc) {
        return "sent=1; for i in 1 2 3 4 5 6 7 8 9 10; do if " + nc + "; then sent=0; break; fi; sleep 2; done; [ $sent = 0 ]";
    }

    private static String hostOk(String command) {
        ConsoleStream.ShellResult r = NEST.host().run(command, TRANSFER);
        assertEquals(0, r.status(), "'" + command + "' on the nest host:\n" + r.output());
        return r.output();
    }

    /**
     * Polls {@code file} through {@code shell} (command to output) until a receiver's md5sum wrote
     * it; past {@code timeout} fails with where the {@code stream}'s frames stopped.
     */
    private static String awaitFile(UnaryOperator<String> shell, String file, Duration timeout, String stream) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            String out = shell.apply("cat " + file + " 2>/dev/null");
            Matcher m = MD5.matcher(out);
            if (m.find()) {
                return m.group(1);
            }
            sleep(Duration.ofSeconds(2));
        }
        throw new AssertionError("the stream " + stream + " did not end: no md5 in " + file + " after " + timeout
                + "\n" + stallEvidence());
    }

    private static String md5(String output) {
        Matcher m = MD5.matcher(output);
        assertTrue(m.find(), "no md5 in:\n" + output);
        return m.group(1);
    }

    private static List<String> taps() {
        return tapsIn(hostOk("ls /sys/class/net/hgbr0/brif"));
    }

    private static List<String> allTaps() {
        return tapsIn(hostOk("ls /sys/class/net"));
    }

    private static List<String> tapsIn(String ipOutput) {
        return TAP.matcher(ipOutput).results().map(java.util.regex.MatchResult::group).distinct().toList();
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }
}
