package hg.vmm.internal.virtio.net;

import hg.vmm.internal.builder.NetCard;
import hg.vmm.internal.virtio.VirtioMmioTransport;
import hg.vmm.internal.virtio.net.vhost.TapCounters;
import hg.vmm.internal.virtio.Virtio;
import hg.vmm.internal.bus.CountingTrigger;
import hg.kvm.testkit.TestNetns;
import hg.kvm.sys.Epoll;
import hg.kvm.GuestMemory;
import hg.kvm.net.HostNetwork;
import hg.kvm.net.NetSetupException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;

import static hg.vmm.internal.virtio.MockDriver.Buf;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * virtio-net on a real TAP and bridge, in a network namespace of the test's own: a driver
 * (the mock split queues) sends ARP and ping through the transmit queue, the namespace's
 * kernel answers through the bridge, and the answers arrive in the receive buffers.
 */
@ExtendWith(TestNetns.PerTest.class)
class VirtioNetTapTest {

    static final long FEATURES = Virtio.bit(Virtio.F_VERSION_1) | Virtio.bit(VirtioNet.F_MAC)
            | Virtio.bit(VirtioNet.F_MRG_RXBUF) | Virtio.bit(Virtio.F_EVENT_IDX) | Virtio.bit(VirtioNet.F_CSUM)
            | Virtio.bit(VirtioNet.F_GUEST_CSUM) | Virtio.bit(VirtioNet.F_GUEST_TSO4) | Virtio.bit(VirtioNet.F_HOST_TSO4);
    static final long TX_BUF = 0x40000, RX_BUFS = 0x80000;
    static final int RX_SIZE = 2048;

    /** A guest: memory, the device on the TAP, its driver, and the receive buffers by head. */
    static final class Guest implements AutoCloseable {
        final GuestMemory memory = GuestMemory.allocate(List.of(new GuestMemory.Range(0, 0x100000)));
        final GuestNetConfig net = GuestNetConfig.forVm(7);
        final TapBackend backend = TapNetwork.attach(GuestNetConfig.DEFAULT_BRIDGE, 7, net);
        final CountingTrigger irq = new CountingTrigger();
        final VirtioMmioTransport transport = new VirtioMmioTransport("net", new VirtioNet(backend, net.mac()), memory, irq);
        final NetDriver driver = new NetDriver(memory, transport, 64, 0x1000, 0x4000);
        final Epoll epoll = Epoll.create();
        final long[] rxAddress = new long[64];

        Guest() {
            assertNotEquals(0, driver.setUp(FEATURES) & Virtio.STATUS_DRIVER_OK);
            for (int i = 0; i < 32; i++) {
                offerRx(RX_BUFS + (long) i * RX_SIZE);
            }
            driver.notifyRx();
            epoll.add(backend.fd(), Epoll.IN | Epoll.EDGE_TRIGGERED, 1);
        }

        void offerRx(long address) {
            int head = driver.rx.chain(List.of(Buf.in(address, RX_SIZE)));
            rxAddress[head] = address;
            driver.rx.offer(head);
        }

        void send(byte[] frame) {
            memory.write(TX_BUF, new byte[VirtioNet.HEADER_SIZE]);
            memory.write(TX_BUF + VirtioNet.HEADER_SIZE, frame);
            driver.tx.offer(driver.tx.chain(List.of(Buf.out(TX_BUF, VirtioNet.HEADER_SIZE),
                    Buf.out(TX_BUF + VirtioNet.HEADER_SIZE, frame.length))));
            driver.notifyTx();
            assertEquals(1, driver.tx.takeUsed().size());
        }

        /** Serves the TAP as the VM's I/O loop does, until a received frame matches (5 s at most). */
        byte[] receive(Predicate<byte[]> wanted) {
            try (Epoll.Events events = new Epoll.Events(1)) {
                long deadline = System.nanoTime() + 5_000_000_000L;
                while (System.nanoTime() < deadline) {
                    if (epoll.await(events, 100) > 0) {
                        transport.processQueue(VirtioNet.RX);
                    }
                    for (int[] used : driver.rx.takeUsed()) {
                        long address = rxAddress[used[0]];
                        byte[] withHeader = memory.read(address, used[1]);
                        assertEquals(1, withHeader[10] | withHeader[11] << 8, "num_buffers");
                        offerRx(address);
                        byte[] frame = Arrays.copyOfRange(withHeader, VirtioNet.HEADER_SIZE, withHeader.length);
                        if (wanted.test(frame)) {
                            return frame;
                        }
                    }
                    driver.notifyRx();
                }
                return null;
            }
        }

        @Override
        public void close() {
            epoll.close();
            transport.close();
            memory.close();
        }
    }

    @Test
    void guestFramesReachTheHostKernelAndItsAnswersComeBack(TestNetns ns) throws Exception {
        ns.run(() -> {
            try (Guest g = new Guest(); HostNetwork host = HostNetwork.open()) {
                ns.awaitForwarding("hgvm7");
                assertEquals("172.30.0.1", host.address(GuestNetConfig.DEFAULT_BRIDGE).orElseThrow().getHostAddress());
                assertTrue(ns.ip("-o", "link", "show", "master", GuestNetConfig.DEFAULT_BRIDGE).contains("hgvm7"));
                byte[] mac = g.net.mac();
                byte[] ip = g.net.address().getAddress();
                byte[] gw = g.net.gateway().getAddress();

                g.send(arpRequest(mac, ip, gw));
                byte[] arp = g.receive(f -> f.length >= 42 && etherType(f) == 0x0806 && f[21] == 2
                        && Arrays.equals(f, 28, 32, gw, 0, 4));
                assertNotNull(arp, "ARP reply from the bridge address");
                byte[] bridgeMac = Arrays.copyOfRange(arp, 22, 28);

                byte[] payload = new byte[1400];
                new java.util.Random(5).nextBytes(payload);
                g.send(icmpEcho(mac, bridgeMac, ip, gw, 0x4867, 1, payload));
                byte[] reply = g.receive(f -> etherType(f) == 0x0800 && f[23] == 1 && f[34] == 0);
                assertNotNull(reply, "echo reply from the host kernel");
                assertTrue(Arrays.equals(reply, 42, reply.length, payload, 0, payload.length), "the payload comes back intact");
                assertTrue(g.irq.count() > 0, "used-buffer interrupts were raised");
                VirtioNet.Stats stats = ((VirtioNet) g.transport.device()).stats();
                assertEquals(2, stats.txFrames());
                assertEquals(0, stats.txDropped());
                assertEquals(0, stats.rxDropped());
            }
            return null;
        });
        assertFalse(ns.links().contains("hgvm7"), "closing the device removes its TAP");
        assertTrue(ns.links().contains(GuestNetConfig.DEFAULT_BRIDGE));
    }

    /**
     * The counters a vhost-net card is measured by: its TAP's own, read over netlink. Here the
     * Java path moves the frames through the same TAP, so both counts must agree exactly, each
     * direction seen from the other side (the TAP's tx is the guest's rx).
     */
    @Test
    void theTapsCountersAreTheGuestsTrafficSeenFromTheOtherSide(TestNetns ns) throws Exception {
        ns.run(() -> {
            Guest g = new Guest();
            TapCounters counters = TapCounters.open("hgvm7");
            GuestTraffic seen;
            try {
                ns.awaitForwarding("hgvm7");
                VirtioNet card = (VirtioNet) g.transport.device();
                NetCard vhostCard = new NetCard(card, g.net.macText(), "", "", "", Optional.of(counters));
                NetCard javaCard = new NetCard(card, g.net.macText(), "", "", "", Optional.empty());
                assertEquals(GuestTraffic.NONE, javaCard.traffic());
                byte[] mac = g.net.mac();
                byte[] ip = g.net.address().getAddress();
                byte[] gw = g.net.gateway().getAddress();
                byte[] arpRequest = arpRequest(mac, ip, gw);
                g.send(arpRequest);
                byte[] arp = g.receive(f -> f.length >= 42 && etherType(f) == 0x0806 && f[21] == 2);
                assertNotNull(arp, "ARP reply from the bridge address");
                byte[] ping = icmpEcho(mac, Arrays.copyOfRange(arp, 22, 28), ip, gw, 0x4867, 2, new byte[700]);
                g.send(ping);
                assertNotNull(g.receive(f -> etherType(f) == 0x0800 && f[23] == 1 && f[34] == 0), "echo reply");

                VirtioNet.Stats stats = card.stats();
                assertEquals(arpRequest.length + ping.length, stats.txBytes(), "the card counts the frames it sent");
                assertTrue(stats.rxBytes() >= arp.length + ping.length, "and those it received: " + stats);
                assertEquals(new GuestTraffic(stats.rxBytes(), stats.txBytes()), javaCard.traffic());
                assertEquals(new GuestTraffic(stats.rxBytes(), stats.txBytes()), vhostCard.traffic(),
                        "the TAP counted the same bytes the other way round");
                seen = vhostCard.traffic();
            } finally {
                g.close();
            }
            assertFalse(ns.links().contains("hgvm7"));
            assertEquals(seen, counters.read(), "the TAP went with the card: the counters keep their last reading");
            counters.close();
            assertEquals(seen, counters.read());
            return null;
        });
    }

    @Test
    void aTapThatCannotBeMadeLeavesNothingBehind(TestNetns ns) throws Exception {
        ns.run(() -> {
            try (HostNetwork host = HostNetwork.open()) {
                host.createBridge("hgvm9");   // the name the TAP wants, taken by something else
                NetSetupException e = assertThrows(NetSetupException.class,
                        () -> TapNetwork.attach(GuestNetConfig.DEFAULT_BRIDGE, 9, GuestNetConfig.forVm(9)));
                assertTrue(e.getMessage().startsWith("TUNSETIFF hgvm9: "), e.getMessage());
                assertFalse(host.exists(GuestNetConfig.DEFAULT_BRIDGE), "the bridge was not touched");
            }
            return null;
        });
    }

    @Test
    void hundredAttachDetachCyclesLeaveNoTap(TestNetns ns) throws Exception {
        ns.run(() -> {
            for (int i = 0; i < 100; i++) {
                try (GuestMemory memory = GuestMemory.allocate(List.of(new GuestMemory.Range(0, 0x10000)));
                     VirtioMmioTransport t = new VirtioMmioTransport("net", new VirtioNet(
                             TapNetwork.attach(GuestNetConfig.DEFAULT_BRIDGE, 1 + i % 3, GuestNetConfig.forVm(1 + i % 3)),
                             GuestNetConfig.forVm(1).mac()), memory, () -> { })) {
                    assertEquals(2, t.queueCount());
                }
            }
            return null;
        });
        assertEquals(List.of("lo", GuestNetConfig.DEFAULT_BRIDGE), ns.links());
    }

    @Test
    void hostSideFailuresDropFramesButNeverBreakTheGuestsCard(TestNetns ns) throws Exception {
        ns.run(() -> {
            TapBackend backend = TapNetwork.attach(GuestNetConfig.DEFAULT_BRIDGE, 3, GuestNetConfig.forVm(3));
            try (java.lang.foreign.Arena a = java.lang.foreign.Arena.ofConfined()) {
                assertEquals(0, backend.receive(a.allocate(VirtioNet.MAX_FRAME)), "nothing waits");
                backend.tap().close();   // the fd is gone under the device
                assertEquals(0, backend.receive(a.allocate(VirtioNet.MAX_FRAME)));
                assertFalse(backend.send(List.of(a.allocate(60))));
            }
            return null;
        });
    }

    static int etherType(byte[] f) {
        return ((f[12] & 0xff) << 8) | (f[13] & 0xff);
    }

    static byte[] arpRequest(byte[] mac, byte[] ip, byte[] targetIp) {
        ByteBuffer b = ByteBuffer.allocate(42);
        b.put(new byte[] {-1, -1, -1, -1, -1, -1}).put(mac).putShort((short) 0x0806);
        b.putShort((short) 1).putShort((short) 0x0800).put((byte) 6).put((byte) 4).putShort((short) 1);
        b.put(mac).put(ip).put(new byte[6]).put(targetIp);
        return b.array();
    }

    static byte[] icmpEcho(byte[] srcMac, byte[] dstMac, byte[] srcIp, byte[] dstIp, int id, int seq, byte[] payload) {
        int icmpLen = 8 + payload.length;
        ByteBuffer b = ByteBuffer.allocate(14 + 20 + icmpLen);
        b.put(dstMac).put(srcMac).putShort((short) 0x0800);
        b.put((byte) 0x45).put((byte) 0).putShort((short) (20 + icmpLen)).putShort((short) 0).putShort((short) 0x4000)
                .put((byte) 64).put((byte) 1).putShort((short) 0).put(srcIp).put(dstIp);
        b.putShort(14 + 10, (short) checksum(b.array(), 14, 20));
        b.put((byte) 8).put((byte) 0).putShort((short) 0).putShort((short) id).putShort((short) seq).put(payload);
        b.putShort(34 + 2, (short) checksum(b.array(), 34, icmpLen));
        return b.array();
    }

    static int checksum(byte[] d, int off, int len) {
        long sum = 0;
        for (int i = 0; i < len; i += 2) {
            sum += ((d[off + i] & 0xff) << 8) | (i + 1 < len ? d[off + i + 1] & 0xff : 0);
        }
        while ((sum >> 16) != 0) {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        return (int) (~sum & 0xffff);
    }
}
