package hg.vmm.internal.virtio.net;

import hg.kvm.net.HostNetwork;
import hg.kvm.testkit.TestNetns;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The uplink against a real kernel, in namespaces of the test's own: "host" has the guest bridge, an
 * uplink (a veth pair into "outside", where a web server is) and another network ("lan", with a server
 * too); "guest" sits on the bridge with a guest's address, as a VM's card would. The guest fetches a file
 * from outside only once the uplink is on, and arrives there with the uplink's address; with it on, the
 * outside reaches neither the guest nor the lan, and the guest and the lan reach no more than before.
 * Servers are busybox's httpd, clients curl.
 */
class UplinkNetnsTest {
    static final String BRIDGE = GuestNetConfig.DEFAULT_BRIDGE;
    static final GuestNetConfig GUEST = GuestNetConfig.forVm(5);
    static final String BUSYBOX = "/bin/busybox";

    @TempDir
    Path dir;

    @Test
    void guestsGetOutThroughTheUplinkAndNothingElseIsRouted() throws Exception {
        assumeTrue(Files.isExecutable(Path.of(BUSYBOX)), "busybox (busybox-static) is not installed");
        List<TestNetns> made = new ArrayList<>();
        List<Process> servers = new ArrayList<>();
        try {
            TestNetns host = add(made), outside = add(made), guest = add(made), lan = add(made);
            GuestNetConfig any = GuestNetConfig.forVm(1);
            host.run(() -> {
                try (HostNetwork h = HostNetwork.open()) {
                    h.ensureBridge(BRIDGE, GuestNetConfig.gatewayMac(), any.gateway(), any.prefixLength());
                }
                return null;
            });
            pair(host, "up0", "10.77.0.1/24", outside, "10.77.0.2/24");
            pair(host, "lan0", "10.88.0.1/24", lan, "10.88.0.2/24");
            pair(host, "gst0", null, guest, GUEST.address().getHostAddress() + "/" + GUEST.prefixLength());
            host.ip("link", "set", "gst0", "master", BRIDGE);
            guest.ip("route", "add", "default", "via", GUEST.gateway().getHostAddress());
            lan.ip("route", "add", "default", "via", "10.88.0.1");
            // Someone on the uplink's network who routes the guests' and the lan's addresses to this host.
            outside.ip("route", "add", GuestNetConfig.SUBNET, "via", "10.77.0.1");
            outside.ip("route", "add", "10.88.0.0/24", "via", "10.77.0.1");
            host.awaitForwarding("gst0");

            Path outsideLog = dir.resolve("outside.log");
            servers.add(httpd(outside, "outside", outsideLog));
            servers.add(httpd(lan, "lan", dir.resolve("lan.log")));
            servers.add(httpd(guest, "guest", dir.resolve("guest.log")));
            String out = "http://10.77.0.2:8080/file", inLan = "http://10.88.0.2:8080/file";
            String inGuest = "http://" + GUEST.address().getHostAddress() + ":8080/file";
            // Every server answers at home, so a refusal below is the network's.
            assertEquals("from outside", fetch(outside, out));
            assertEquals("from lan", fetch(lan, inLan));
            assertEquals("from guest", fetch(guest, inGuest));

            assertFalse(reaches(guest, out), "without the uplink the guest stays on the host");
            String line = host.run(() -> Uplink.enable(BRIDGE, "up0"));
            assertEquals("network: guests reach beyond this host through up0 (NAT: nftables table ip " + Uplink.TABLE + ")", line);

            assertEquals("from outside", fetch(guest, out), "the guest fetches a file from behind the uplink");
            String seen = Files.readString(outsideLog);
            assertTrue(seen.contains("10.77.0.1") && !seen.contains(GUEST.address().getHostAddress()),
                    "the outside saw the uplink's address, not the guest's:\n" + seen);
            assertFalse(reaches(outside, inGuest), "the outside does not reach the guest");
            assertFalse(reaches(outside, inLan), "the outside does not reach the lan through the host");
            assertFalse(reaches(lan, out), "the lan does not reach the outside through the host");
            assertFalse(reaches(guest, inLan), "the guest does not reach the lan");
            assertEquals("0", host.exec("cat", "/proc/sys/net/ipv4/conf/lan0/forwarding").strip(), "the lan forwards nothing");
            assertEquals("0", host.exec("cat", "/proc/sys/net/ipv4/ip_forward").strip(), "forwarding is on for two interfaces, not all");
        } finally {
            for (Process p : servers) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            made.forEach(TestNetns::close);
        }
    }

    @Test
    void aMissingInterfaceOrABadNameIsOneLineAndNoTable() throws Exception {
        try (TestNetns host = TestNetns.create()) {
            assertEquals("warning: network: no uplink: this host has no interface eth9; guests reach the host and each other only",
                    host.run(() -> Uplink.enable(BRIDGE, "eth9")));
            assertEquals("warning: network: no uplink: 'a\" b' is not an interface name",
                    host.run(() -> Uplink.enable(BRIDGE, "a\" b")));
            assertFalse(host.exec("nft", "list", "tables").contains(Uplink.TABLE));
        }
        assertThrows(IllegalArgumentException.class, () -> Uplink.ruleset(BRIDGE, "eth0\" accept"));
    }

    private static TestNetns add(List<TestNetns> made) {
        TestNetns ns = TestNetns.create();
        made.add(ns);
        return ns;
    }

    /** A veth pair between two namespaces, each end up and with its address (none where null). */
    private static void pair(TestNetns a, String aName, String aAddress, TestNetns b, String bAddress) {
        a.ip("link", "add", aName, "type", "veth", "peer", "name", "eth0", "netns", b.name());
        if (aAddress != null) {
            a.ip("addr", "add", aAddress, "dev", aName);
        }
        a.ip("link", "set", aName, "up");
        b.ip("addr", "add", bAddress, "dev", "eth0");
        b.ip("link", "set", "eth0", "up");
        b.ip("link", "set", "lo", "up");
    }

    /** busybox httpd in {@code ns} on port 8080, serving "from NAME" as /file; its log (client addresses) to {@code log}. */
    private Process httpd(TestNetns ns, String name, Path log) throws IOException {
        Path root = Files.createDirectories(dir.resolve("www-" + name));
        Files.writeString(root.resolve("file"), "from " + name);
        return new ProcessBuilder("timeout", "120", "ip", "netns", "exec", ns.name(), BUSYBOX, "httpd", "-f", "-vv",
                "-p", "8080", "-h", root.toString()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    private static String fetch(TestNetns from, String url) throws InterruptedException {
        for (int attempt = 0; ; attempt++) {
            try {
                return from.exec("curl", "-s", "-m", "5", url).strip();
            } catch (AssertionError e) {
                // the server may not listen yet
                if (attempt >= 20) {
                    throw e;
                }
                Thread.sleep(100);
            }
        }
    }

    private static boolean reaches(TestNetns from, String url) {
        try {
            from.exec("curl", "-s", "-m", "2", url);
            return true;
        } catch (AssertionError e) {
            return false;
        }
    }
}
