package hg.vmm.internal.virtio.net;

import hg.kvm.net.Nft;
import hg.kvm.net.Tap;
import hg.kvm.sys.Epoll;
import hg.kvm.testkit.TestNetns;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.function.Predicate;

import static hg.vmm.internal.virtio.net.GuestFrames.ARP_REPLY;
import static hg.vmm.internal.virtio.net.GuestFrames.ARP_REQUEST;
import static hg.vmm.internal.virtio.net.GuestFrames.BROADCAST;
import static hg.vmm.internal.virtio.net.GuestFrames.arp;
import static hg.vmm.internal.virtio.net.GuestFrames.echo;
import static hg.vmm.internal.virtio.net.GuestFrames.isArp;
import static hg.vmm.internal.virtio.net.GuestFrames.isEcho;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The guest filter against a real kernel, in a network namespace of the test's own: the bridge
 * and two guests' TAPs made as the VMM makes them, the ruleset loaded as the VMM loads it, then
 * the test writes what a hostile guest would into one TAP and reads what reaches the other TAP,
 * the host's kernel (its answers), its neighbour table and the bridge's forwarding table. On a
 * bridge without the filter every spoofed frame below gets through.
 */
@ExtendWith(TestNetns.PerTest.class)
class SpoofFilterNetnsTest {

    static final GuestNetConfig A = GuestNetConfig.forVm(7), B = GuestNetConfig.forVm(8);
    static final byte[] GATEWAY = A.gateway().getAddress();
    static final byte[] A_MAC = A.mac(), A_IP = A.address().getAddress();
    static final byte[] B_MAC = B.mac(), B_IP = B.address().getAddress();
    static final byte[] UNUSED_MAC = GuestNetConfig.forVm(9).mac();
    static final byte[] UNUSED_IP = GuestNetConfig.forVm(99).address().getAddress();
    static final String BRIDGE = GuestNetConfig.DEFAULT_BRIDGE;

    @Test
    void guestsSendOnlyAsThemselves(TestNetns ns) throws Exception {
        ns.run(() -> {
            assertChildrenLiveHere();
            String loaded = SpoofFilterLoad.loadNow();
            System.out.println(loaded);
            assertTrue(SpoofFilterLoad.filtered(loaded), loaded);
            try (TapBackend a = TapNetwork.attach(BRIDGE, 7, A); TapBackend b = TapNetwork.attach(BRIDGE, 8, B)) {
                Tap ta = a.tap(), tb = b.tap();
                ns.awaitForwarding(ta.name());
                ns.awaitForwarding(tb.name());

                // What a guest may send: ARP and IPv4 from its own MAC and address, to the host and to the other guest.
                send(tb, arp(B_MAC, BROADCAST, ARP_REQUEST, B_MAC, B_IP, new byte[6], GATEWAY));
                assertNotNull(receive(tb, f -> isArp(f, ARP_REPLY, GATEWAY)), "the host answers B's ARP");
                send(ta, arp(A_MAC, BROADCAST, ARP_REQUEST, A_MAC, A_IP, new byte[6], GATEWAY));
                byte[] answer = receive(ta, f -> isArp(f, ARP_REPLY, GATEWAY));
                assertNotNull(answer, "the host answers A's ARP");
                byte[] bridgeMac = GuestFrames.senderMac(answer);
                assertNotNull(receive(tb, f -> isArp(f, ARP_REQUEST, A_IP)), "A's ARP request reaches B");
                send(ta, echo(A_MAC, B_MAC, A_IP, B_IP, 1));
                assertNotNull(receive(tb, f -> isEcho(f, 8, 1)), "A's ping reaches B");
                send(ta, echo(A_MAC, bridgeMac, A_IP, GATEWAY, 2));
                assertNotNull(receive(ta, f -> isEcho(f, 0, 2)), "the host answers A's ping");

                // The host takes no ARP update within a second of the last (locktime): wait it out, so
                // that only the filter can keep the spoofed reply below from rewriting B's entry.
                Thread.sleep(1100);

                List<byte[]> spoofed = List.of(
                        echo(UNUSED_MAC, B_MAC, A_IP, B_IP, 100),               // another MAC, to B
                        echo(B_MAC, bridgeMac, A_IP, GATEWAY, 101),             // B's MAC, to the host
                        echo(A_MAC, B_MAC, GATEWAY, B_IP, 102),                 // the gateway's address, to B
                        echo(A_MAC, B_MAC, UNUSED_IP, B_IP, 103),               // an address not A's, to B
                        echo(A_MAC, bridgeMac, B_IP, GATEWAY, 104),             // B's address, to the host
                        arp(A_MAC, B_MAC, ARP_REPLY, A_MAC, GATEWAY, B_MAC, B_IP),        // "the gateway is at A", to B
                        arp(A_MAC, bridgeMac, ARP_REPLY, A_MAC, B_IP, bridgeMac, GATEWAY), // "B is at A", to the host
                        arp(A_MAC, BROADCAST, ARP_REQUEST, B_MAC, A_IP, new byte[6], GATEWAY), // ARP sender MAC B's
                        arp(B_MAC, BROADCAST, ARP_REQUEST, A_MAC, A_IP, new byte[6], B_IP),    // Ethernet source B's
                        GuestFrames.ipv6(A_MAC, B_MAC));                          // anything but IPv4 and ARP
                spoofed.forEach(f -> send(ta, f));

                // Frames from one TAP cross the bridge in order, and the host answers as it receives:
                // once these arrive, anything the spoofed frames caused has arrived before them.
                send(ta, echo(A_MAC, B_MAC, A_IP, B_IP, 200));
                send(ta, echo(A_MAC, bridgeMac, A_IP, GATEWAY, 201));
                send(tb, echo(B_MAC, bridgeMac, B_IP, GATEWAY, 202));
                List<byte[]> atB = receiveUntil(tb, f -> isEcho(f, 0, 202));
                List<byte[]> atA = receiveUntil(ta, f -> isEcho(f, 0, 201));
                for (byte[] f : atB) {
                    assertFalse(isEcho(f, 8, 100) || isEcho(f, 8, 102) || isEcho(f, 8, 103), "a spoofed ping reached B");
                    assertFalse(isEcho(f, 0, 104), "the host answered a ping from B's address that A sent");
                    assertFalse(isArp(f, ARP_REPLY, GATEWAY), "A's ARP reply for the gateway reached B");
                    assertFalse(isArp(f, ARP_REQUEST, A_IP) || isArp(f, ARP_REQUEST, B_IP), "a spoofed ARP request reached B");
                    // The host's own IPv6 (its bridge's link-local chatter) may reach B; A's may not.
                    assertFalse(GuestFrames.etherType(f) == GuestFrames.ETH_IPV6 && Arrays.equals(f, 6, 12, A_MAC, 0, 6),
                            "IPv6 from A reached B");
                }
                assertFalse(atA.stream().anyMatch(f -> isEcho(f, 0, 101)), "the host answered a ping from B's MAC");
                // Without the filter it does not: frame 101 taught the bridge that B's MAC is on A's port.
                assertTrue(atB.stream().anyMatch(f -> isEcho(f, 8, 200)), "A's own ping still reaches B");

                assertEquals(spoofed.size(), dropped(ns), "every spoofed frame is dropped and counted");
                String neigh = ns.ip("neigh", "show", B.address().getHostAddress());
                assertTrue(neigh.contains(B.macText()), "the host's entry for B still says B's MAC: " + neigh);
                assertFalse(ns.ip("neigh", "show", A.gateway().getHostAddress()).contains("lladdr"));
                String fdb = ns.exec("bridge", "fdb", "show", "br", BRIDGE);
                assertTrue(fdb.contains(B.macText() + " dev hgvm8 "), "the bridge learnt B's MAC on B's port only: " + fdb);
                assertFalse(fdb.contains(HexFormat.ofDelimiter(":").formatHex(UNUSED_MAC)), "the bridge learnt no MAC A made up: " + fdb);
            }
            return null;
        });
    }

    @Test
    void loadingAgainReplacesTheTable(TestNetns ns) throws Exception {
        ns.run(() -> {
            assertChildrenLiveHere();
            assertTrue(SpoofFilterLoad.filtered(SpoofFilterLoad.loadNow()));
            assertTrue(SpoofFilterLoad.ensure().isEmpty(), "once per namespace and process");
            assertInstanceOf(Nft.Outcome.Loaded.class, Nft.load(SpoofFilter::write), "a second VMM loads it again");
            return null;
        });
        String tables = ns.exec("nft", "list", "tables");
        assertEquals(1, tables.lines().filter(l -> l.equals("table bridge hyper-gen")).count(), tables);
        assertEquals(1, ns.exec("nft", "list", "table", "bridge", "hyper-gen").lines()
                .filter(l -> l.strip().startsWith("chain ")).count());
    }

    /** Everything below runs nft from this thread: it must land in the test's namespace, never the host's. */
    static void assertChildrenLiveHere() throws IOException, InterruptedException {
        Process p = new ProcessBuilder("ip", "-o", "link", "show").redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor();
        assertEquals(List.of("lo"), out.lines().map(l -> l.split(":\\s+")[1]).toList(),
                "a program started here sees the test's namespace");
    }

    static long dropped(TestNetns ns) {
        String chain = ns.exec("nft", "list", "chain", "bridge", SpoofFilter.TABLE, SpoofFilter.CHAIN);
        String[] words = chain.substring(chain.indexOf("counter packets ")).split("\\s+");
        return Long.parseLong(words[2]);
    }

    static void send(Tap tap, byte[] frame) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(Tap.VNET_HDR_SIZE + frame.length);
            MemorySegment.copy(frame, 0, s, JAVA_BYTE, Tap.VNET_HDR_SIZE, frame.length);
            assertEquals(s.byteSize(), tap.write(s), "the TAP takes a whole frame, dropped or not");
        }
    }

    static byte[] receive(Tap tap, Predicate<byte[]> wanted) {
        List<byte[]> frames = receiveUntil(tap, wanted);
        return frames.isEmpty() || !wanted.test(frames.getLast()) ? null : frames.getLast();
    }

    /** Every frame read until one matches (or 5 s pass), that one last. */
    static List<byte[]> receiveUntil(Tap tap, Predicate<byte[]> last) {
        List<byte[]> frames = new ArrayList<>();
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
                frames.add(frame);
                if (last.test(frame)) {
                    return frames;
                }
            }
            return frames;
        }
    }
}
