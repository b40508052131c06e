package hg.kvm.net;

import hg.kvm.testkit.TestNetns;
import hg.kvm.sys.Epoll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Predicate;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The TAP and the bridge against a real kernel, each test in a network namespace of its own:
 * frames written to the TAP reach the namespace's kernel through the bridge and its answers
 * come back; closing the TAP removes it; the TAP's own counters ({@link LinkStats}) count what
 * was written into it and read out of it, each frame without its vnet header.
 */
class TapBridgeTest {

    static final byte[] GUEST_MAC = {0x02, 0x68, 0x67, 0, 0, 2};
    static final byte[] GUEST_IP = {(byte) 172, 30, 0, 2};
    static final byte[] BRIDGE_IP = {(byte) 172, 30, 0, 1};
    static final byte[] BRIDGE_MAC = {0x02, 0x68, 0x67, (byte) 0xff, 0x00, 0x01};

    TestNetns ns;

    @BeforeEach
    void namespace() {
        ns = TestNetns.create();
    }

    @AfterEach
    void drop() {
        if (ns != null) {
            ns.close();
        }
    }

    static Inet4Address ip(byte[] b) throws Exception {
        return (Inet4Address) InetAddress.getByAddress(b);
    }

    /** Writes {@code frame} behind a zero vnet header. */
    static void send(Tap tap, byte[] frame) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(Tap.VNET_HDR_SIZE + frame.length);
            MemorySegment.copy(frame, 0, s, JAVA_BYTE, Tap.VNET_HDR_SIZE, frame.length);
            assertEquals(s.byteSize(), tap.write(s));
        }
    }

    /** Reads frames until one matches (or 5 s pass); returns it without its vnet header, or null. */
    static byte[] receive(Tap tap, Predicate<byte[]> wanted) {
        try (Arena a = Arena.ofConfined(); Epoll epoll = Epoll.create(); Epoll.Events events = new Epoll.Events(1)) {
            epoll.add(tap.fd(), Epoll.IN, 1);
            MemorySegment buf = a.allocate(Tap.MAX_FRAME);
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (System.nanoTime() < deadline) {
                int n = tap.read(buf);
                if (n == 0) {
                    epoll.await(events, 100);
                    continue;
                }
                byte[] frame = buf.asSlice(Tap.VNET_HDR_SIZE, n - Tap.VNET_HDR_SIZE).toArray(JAVA_BYTE);
                if (wanted.test(frame)) {
                    return frame;
                }
            }
            return null;
        }
    }

    @Test
    void framesCrossTheBridgeBothWays() throws Exception {
        String tapName = ns.run(() -> {
            try (HostNetwork net = HostNetwork.open(); Tap tap = Tap.create("hgtap%d")) {
                assertTrue(net.ensureBridge("hgbr0", BRIDGE_MAC, ip(BRIDGE_IP), 24));
                assertFalse(net.ensureBridge("hgbr0", BRIDGE_MAC, ip(BRIDGE_IP), 24), "the second call finds the bridge");
                assertEquals(ip(BRIDGE_IP), net.address("hgbr0").orElseThrow());
                assertTrue(net.isUp("hgbr0"));
                net.attach("hgbr0", tap.name());
                net.setUp(tap.name(), true);
                assertTrue(ns.ip("-o", "link", "show", "master", "hgbr0").contains(tap.name()));
                ns.awaitForwarding(tap.name());

                send(tap, Frames.arpRequest(GUEST_MAC, GUEST_IP, BRIDGE_IP));
                byte[] arp = receive(tap, f -> Frames.isArpReply(f, BRIDGE_IP, GUEST_MAC));
                assertNotNull(arp, "the namespace's kernel answers ARP for the bridge address");
                byte[] bridgeMac = java.util.Arrays.copyOfRange(arp, 22, 28);
                // Its own, not its port's: the guests' gateway keeps its address while TAPs come and go.
                org.junit.jupiter.api.Assertions.assertArrayEquals(BRIDGE_MAC, bridgeMac);

                byte[] payload = "hyper-gen echo".getBytes();
                send(tap, Frames.icmpEcho(GUEST_MAC, bridgeMac, GUEST_IP, BRIDGE_IP, 0x4867, 7, payload));
                assertNotNull(receive(tap, f -> Frames.isEchoReply(f, BRIDGE_IP, 0x4867, 7)),
                        "the namespace's kernel answers a ping through the bridge");
                return tap.name();
            }
        });
        assertTrue(tapName.startsWith("hgtap"));
        assertFalse(ns.links().contains(tapName), "closing the TAP removes it");
        assertTrue(ns.links().contains("hgbr0"));
    }

    @Test
    void offloadsAreAcceptedOrRefusedPlainly() throws Exception {
        ns.run(() -> {
            try (Tap tap = Tap.create("hgtap%d")) {
                assertTrue(tap.setOffload(0));
                assertTrue(tap.setOffload(Tap.OFFLOAD_CSUM | Tap.OFFLOAD_TSO4 | Tap.OFFLOAD_TSO6));
                assertFalse(tap.setOffload(Tap.OFFLOAD_TSO4), "TSO without checksum offload is refused");
                assertFalse(tap.setOffload(0x4000_0000), "unknown offload bits are refused");
                return null;
            }
        });
    }

    @Test
    void hundredCreateDestroyCyclesLeaveNoTap() throws Exception {
        long fdsBefore = openFds();
        ns.run(() -> {
            try (HostNetwork net = HostNetwork.open()) {
                net.ensureBridge("hgbr0", BRIDGE_MAC, ip(BRIDGE_IP), 24);
                for (int i = 0; i < 100; i++) {
                    try (Tap tap = Tap.create("hgtap%d")) {
                        net.attach("hgbr0", tap.name());
                        net.setUp(tap.name(), true);
                    }
                }
                return null;
            }
        });
        assertEquals(List.of("lo", "hgbr0"), ns.links());
        // The rest of the test JVM opens and closes fds meanwhile (earlier tests' subprocess pipes,
        // class loading, a lazily opened file), so the count moves by one or two either way; a
        // leak of one fd per cycle would add a hundred.
        long fdsAfter = openFds();
        assertTrue(fdsAfter < fdsBefore + 10, "every TAP and socket fd is closed: " + fdsBefore + " before, " + fdsAfter + " after");
    }

    @Test
    void bridgeIsDeletedWithItsPortsReleased() throws Exception {
        ns.run(() -> {
            try (HostNetwork net = HostNetwork.open(); Tap tap = Tap.create("hgtap%d")) {
                net.ensureBridge("hgbr1", BRIDGE_MAC, ip(BRIDGE_IP), 24);
                net.attach("hgbr1", tap.name());
                net.detach("hgbr1", tap.name());
                net.attach("hgbr1", tap.name());
                net.deleteBridge("hgbr1");
                assertFalse(net.exists("hgbr1"));
                assertTrue(net.exists(tap.name()), "the port itself stays");
                return null;
            }
        });
    }

    @Test
    void badRequestsAnswerOneClearLine() throws Exception {
        ns.run(() -> {
            try (HostNetwork net = HostNetwork.open(); Tap tap = Tap.create("hgtap%d")) {
                assertFalse(net.exists("nosuch0"));
                NetSetupException e = assertThrows(NetSetupException.class, () -> net.attach("nosuchbr", tap.name()));
                assertTrue(e.getMessage().startsWith("SIOCBRADDIF nosuchbr " + tap.name() + ": ENODEV"), e.getMessage());
                NetSetupException busy = assertThrows(NetSetupException.class, () -> Tap.create("lo"));
                assertTrue(busy.getMessage().startsWith("TUNSETIFF lo: "), busy.getMessage());
                assertThrows(IllegalArgumentException.class, () -> Tap.create("a-name-far-too-long"));
                assertThrows(IllegalArgumentException.class, () -> net.exists("bad/name"));
                return null;
            }
        });
    }

    @Test
    void lackingCapNetAdminIsNamed() {
        NetSetupException e = new NetSetupException("TUNSETIFF hgtap%d", 1, NetSetupException.hint(1));
        assertEquals("TUNSETIFF hgtap%d: EPERM (Operation not permitted): the VMM needs CAP_NET_ADMIN (run it as root)"
                + " to create network devices", e.getMessage());
        assertEquals("EPERM", e.errnoName());
        NetSetupException missing = new NetSetupException("open /dev/net/tun", 2, NetSetupException.hint(2));
        assertTrue(missing.getMessage().contains("CONFIG_TUN"));
    }

    @Test
    void aTapCountsTheBytesWrittenIntoItAndReadOutOfIt() throws Exception {
        ns.run(() -> {
            try (HostNetwork net = HostNetwork.open(); Tap tap = Tap.create("hgtap%d"); LinkStats stats = LinkStats.open()) {
                net.ensureBridge("hgbr0", BRIDGE_MAC, ip(BRIDGE_IP), 24);
                net.attach("hgbr0", tap.name());
                net.setUp(tap.name(), true);
                ns.awaitForwarding(tap.name());
                LinkStats.Totals before = stats.of(tap.name());
                assertEquals(0, before.rxBytes(), "nothing was written yet");

                byte[] arp = Frames.arpRequest(GUEST_MAC, GUEST_IP, BRIDGE_IP);
                byte[] ping = Frames.icmpEcho(GUEST_MAC, BRIDGE_MAC, GUEST_IP, BRIDGE_IP, 0x4867, 3, new byte[1000]);
                send(tap, arp);
                send(tap, ping);
                // Whatever the kernel sends out of the TAP (the answers, and IPv6 chatter of a new
                // link) is counted as it is read: read until the echo reply, summing every frame.
                long read = 0;
                boolean replied = false;
                try (Arena a = Arena.ofConfined(); Epoll epoll = Epoll.create(); Epoll.Events events = new Epoll.Events(1)) {
                    epoll.add(tap.fd(), Epoll.IN, 1);
                    MemorySegment buf = a.allocate(Tap.MAX_FRAME);
                    long deadline = System.nanoTime() + 5_000_000_000L;
                    while (!replied && System.nanoTime() < deadline) {
                        int n = tap.read(buf);
                        if (n == 0) {
                            epoll.await(events, 100);
                            continue;
                        }
                        read += n - Tap.VNET_HDR_SIZE;
                        byte[] frame = buf.asSlice(Tap.VNET_HDR_SIZE, n - Tap.VNET_HDR_SIZE).toArray(JAVA_BYTE);
                        replied = Frames.isEchoReply(frame, BRIDGE_IP, 0x4867, 3);
                    }
                }
                assertTrue(replied, "the namespace's kernel answered the ping");
                LinkStats.Totals after = stats.of(tap.name());
                assertEquals(arp.length + ping.length, after.rxBytes() - before.rxBytes(), "the TAP took in what was written");
                assertEquals(2, after.rxPackets() - before.rxPackets());
                assertEquals(read, after.txBytes() - before.txBytes(), "the TAP gave out what was read");
                assertTrue(after.txPackets() - before.txPackets() >= 2);
                return null;
            }
        });
    }

    @Test
    void aMissingInterfaceIsENodevAndTheSocketAnswersOnAfterIt() throws Exception {
        ns.run(() -> {
            try (LinkStats stats = LinkStats.open()) {
                NetSetupException e = assertThrows(NetSetupException.class, () -> stats.of("nosuch0"));
                assertEquals("ENODEV", e.errnoName(), e.getMessage());
                assertTrue(e.getMessage().startsWith("RTM_GETLINK nosuch0: "), e.getMessage());
                assertTrue(stats.of("lo").rxBytes() >= 0);
                assertThrows(IllegalArgumentException.class, () -> stats.of("bad/name"));
                return null;
            }
        });
    }

    @Test
    void theSocketStaysInTheNamespaceItWasOpenedIn() throws Exception {
        LinkStats stats = ns.run(() -> {
            LinkStats s = LinkStats.open();
            try (HostNetwork net = HostNetwork.open()) {
                net.createBridge("hgbr7");
            }
            return s;
        });
        try (stats) {
            // Asked from this thread, in the test's own namespace, it still sees the test namespace's bridge.
            assertEquals(0, stats.of("hgbr7").rxPackets());
        }
    }

    static long openFds() throws Exception {
        try (var s = Files.list(Path.of("/proc/self/fd"))) {
            return s.count();
        }
    }
}
