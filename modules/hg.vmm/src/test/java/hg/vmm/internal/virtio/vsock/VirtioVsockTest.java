package hg.vmm.internal.virtio.vsock;

import hg.kvm.GuestMemory;
import hg.vmm.internal.bus.CountingTrigger;
import hg.vmm.internal.log.RateLimitedLog;
import hg.vmm.internal.virtio.VirtioMmioTransport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static hg.vmm.internal.virtio.vsock.VsockHeader.*;
import static org.junit.jupiter.api.Assertions.*;

class VirtioVsockTest {
    static final int GUEST_BUF = 64 * 1024;

    @TempDir
    Path dir;
    Path socket;
    final GuestMemory memory = GuestMemory.allocate(List.of(new GuestMemory.Range(0, 0x200000)));
    VirtioVsock vsock;
    VirtioMmioTransport transport;
    VsockDriver driver;

    @BeforeEach
    void plug() throws IOException {
        socket = dir.resolve("vm1.vsock");
        vsock = new VirtioVsock(socket, "test", RateLimitedLog.to(System.getLogger("test")), false);
        transport = new VirtioMmioTransport("vsock", vsock, memory, new CountingTrigger());
        vsock.onHostEvents(() -> transport.processQueue(VirtioVsock.RX));
        driver = new VsockDriver(memory, transport);
    }

    @AfterEach
    void unplug() {
        transport.close();
        memory.close();
    }

    void start() {
        assertEquals(0x0f, driver.setUp() & 0x0f, "DRIVER_OK");
        driver.offerReceive(VsockDriver.SIZE);
    }

    static VsockHeader fromGuest(int guestPort, int hostPort, int op, int len, int flags, int fwdCnt) {
        return new VsockHeader(VirtioVsock.GUEST_CID, VirtioVsock.HOST_CID, guestPort, hostPort, len, TYPE_STREAM, op, flags,
                GUEST_BUF, fwdCnt);
    }

    SocketChannel hostConnect(int port) throws IOException {
        SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(socket));
        ch.write(ByteBuffer.wrap(("CONNECT " + port + "\n").getBytes(StandardCharsets.US_ASCII)));
        return ch;
    }

    static String readLine(SocketChannel ch) throws IOException {
        StringBuilder sb = new StringBuilder();
        ByteBuffer one = ByteBuffer.allocate(1);
        while (true) {
            one.clear();
            if (ch.read(one) < 0) {
                return sb.length() == 0 ? null : sb.toString();
            }
            if (one.get(0) == '\n') {
                return sb.toString();
            }
            sb.append((char) one.get(0));
        }
    }

    static byte[] readExactly(SocketChannel ch, int n) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(n);
        while (b.hasRemaining()) {
            if (ch.read(b) < 0) {
                break;
            }
        }
        return java.util.Arrays.copyOf(b.array(), b.position());
    }

    /** A host program's stream to guest port 52, answered by the guest: its host port. */
    int establishFromHost(SocketChannel client) throws Exception {
        VsockDriver.Packet req = driver.awaitPacket();
        assertEquals(OP_REQUEST, req.header().op());
        assertEquals(52, req.header().dstPort());
        assertEquals(VirtioVsock.GUEST_CID, req.header().dstCid());
        assertEquals(VirtioVsock.HOST_CID, req.header().srcCid());
        int hostPort = req.header().srcPort();
        driver.send(fromGuest(52, hostPort, OP_RESPONSE, 0, 0, 0), new byte[0]);
        assertEquals("OK " + Integer.toUnsignedString(hostPort), readLine(client));
        return hostPort;
    }

    @Test
    void announcesItselfAsAVsockWithCidThreeAndThreeQueues() {
        assertEquals(VirtioVsock.DEVICE_ID, driver.rx.reg(VirtioMmioTransport.REG_DEVICE_ID));
        byte[] cid = new byte[8];
        transport.read(VirtioMmioTransport.REG_CONFIG, cid);
        assertEquals(3, ByteBuffer.wrap(cid).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong());
        assertEquals(3, transport.queueCount());
        assertTrue(Files.exists(socket));
    }

    @Test
    void aHostProgramReachesAGuestPortAndBytesFlowBothWays() throws Exception {
        start();
        try (SocketChannel client = hostConnect(52)) {
            int hostPort = establishFromHost(client);
            assertTrue(Integer.toUnsignedLong(hostPort) >= VirtioVsock.FIRST_HOST_PORT);
            client.write(ByteBuffer.wrap("hello".getBytes(StandardCharsets.US_ASCII)));
            VsockDriver.Packet data = driver.awaitPacket();
            assertEquals(OP_RW, data.header().op());
            assertEquals("hello", new String(data.payload(), StandardCharsets.US_ASCII));
            assertEquals(VsockConnection.BUF_ALLOC, data.header().bufAlloc());

            driver.send(fromGuest(52, hostPort, OP_RW, 5, 0, 5), "world".getBytes(StandardCharsets.US_ASCII));
            assertEquals("world", new String(readExactly(client, 5), StandardCharsets.US_ASCII));

            // The guest closes: both directions shut down, answered with a reset; the host sees the end.
            driver.send(fromGuest(52, hostPort, OP_SHUTDOWN, 0, SHUTDOWN_RCV | SHUTDOWN_SEND, 5), new byte[0]);
            assertEquals(OP_RST, driver.awaitPacket().header().op());
            assertNull(readLine(client));
            assertEquals(0, vsock.connections());
        }
        assertFalse(driver.broken());
    }

    @Test
    void aGuestThatClosesRightAfterSendingLosesNothingToASlowHostProgram() throws Exception {
        start();
        try (SocketChannel client = hostConnect(52)) {
            int hostPort = establishFromHost(client);
            // A whole credit's worth, more than the host socket holds unread: some of it waits in the VMM.
            byte[] block = new byte[64 * 1024];   // Linux's largest packet; four fill the credit
            for (int i = 0; i < VsockConnection.BUF_ALLOC / block.length; i++) {
                java.util.Arrays.fill(block, (byte) i);
                driver.send(fromGuest(52, hostPort, OP_RW, block.length, 0, 0), block);
            }
            driver.send(fromGuest(52, hostPort, OP_SHUTDOWN, 0, SHUTDOWN_RCV | SHUTDOWN_SEND, 0), new byte[0]);
            byte[] all = readExactly(client, VsockConnection.BUF_ALLOC);
            for (int i = 0; i < all.length; i++) {
                assertEquals((byte) (i / block.length), all[i], "byte " + i);
            }
            assertNull(readLine(client), "then the end");
            VsockDriver.Packet p;
            do {
                p = driver.awaitPacket();   // credit updates for what the host program took may come first
            } while (p.header().op() == VsockHeader.OP_CREDIT_UPDATE);
            assertEquals(OP_RST, p.header().op(), "the guest hears its close answered");
        }
    }

    @Test
    void aGuestReachesAHostListenerAtThePathWithThePort() throws Exception {
        start();
        try (ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            listener.bind(UnixDomainSocketAddress.of(dir.resolve("vm1.vsock_1234")));
            driver.send(fromGuest(5000, 1234, OP_REQUEST, 0, 0, 0), new byte[0]);
            VsockDriver.Packet response = driver.awaitPacket();
            assertEquals(OP_RESPONSE, response.header().op());
            assertEquals(1234, response.header().srcPort());
            assertEquals(5000, response.header().dstPort());
            try (SocketChannel accepted = listener.accept()) {
                driver.send(fromGuest(5000, 1234, OP_RW, 3, 0, 0), "abc".getBytes(StandardCharsets.US_ASCII));
                assertEquals("abc", new String(readExactly(accepted, 3), StandardCharsets.US_ASCII));
                accepted.write(ByteBuffer.wrap("xyz".getBytes(StandardCharsets.US_ASCII)));
                assertEquals("xyz", new String(driver.awaitPacket().payload(), StandardCharsets.US_ASCII));
            }
            // The host program went: the guest hears that the stream is shut both ways.
            VsockDriver.Packet end = driver.awaitPacket();
            assertEquals(OP_SHUTDOWN, end.header().op());
            assertEquals(SHUTDOWN_RCV | SHUTDOWN_SEND, end.header().flags());
        }
    }

    @Test
    void aGuestRequestNobodyListensForIsReset() throws Exception {
        start();
        driver.send(fromGuest(5000, 999, OP_REQUEST, 0, 0, 0), new byte[0]);
        VsockDriver.Packet p = driver.awaitPacket();
        assertEquals(OP_RST, p.header().op());
        assertEquals(999, p.header().srcPort());
        assertEquals(5000, p.header().dstPort());
    }

    @Test
    void packetsForStreamsThatDoNotExistAreResetButResetsAreNotAnswered() throws Exception {
        start();
        driver.send(fromGuest(1, 2, OP_RW, 4, 0, 0), "data".getBytes(StandardCharsets.US_ASCII));
        assertEquals(OP_RST, driver.awaitPacket().header().op());
        driver.send(fromGuest(1, 2, OP_RST, 0, 0, 0), new byte[0]);
        Thread.sleep(50);
        assertTrue(driver.drain().isEmpty());
    }

    @Test
    void theHostNeverSendsMoreThanTheGuestsCredit() throws Exception {
        start();
        try (SocketChannel client = hostConnect(52)) {
            VsockDriver.Packet req = driver.awaitPacket();
            int hostPort = req.header().srcPort();
            // This guest has 1000 bytes of buffer for the stream.
            driver.send(new VsockHeader(3, 2, 52, hostPort, 0, TYPE_STREAM, OP_RESPONSE, 0, 1000, 0), new byte[0]);
            readLine(client);
            driver.offerReceive(1);   // the one the request took
            client.write(ByteBuffer.wrap(new byte[10_000]));
            int got = 0;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
            while (System.nanoTime() < deadline) {
                List<VsockDriver.Packet> packets = driver.drain();
                for (VsockDriver.Packet p : packets) {
                    got += p.header().len();
                }
                driver.offerReceive(packets.size());   // each buffer the guest read goes back
                Thread.sleep(20);
            }
            assertEquals(1000, got, "bytes sent within a credit of 1000");
            // The guest read it all: 1000 more.
            driver.send(new VsockHeader(3, 2, 52, hostPort, 0, TYPE_STREAM, OP_CREDIT_UPDATE, 0, 1000, 1000), new byte[0]);
            deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
            while (System.nanoTime() < deadline && got < 2000) {
                List<VsockDriver.Packet> packets = driver.drain();
                for (VsockDriver.Packet p : packets) {
                    got += p.header().len();
                }
                driver.offerReceive(packets.size());   // each buffer the guest read goes back
                Thread.sleep(20);
            }
            assertEquals(2000, got);
            assertFalse(driver.broken());
        }
    }

    @Test
    void aGuestThatSendsPastItsCreditIsResetAndTheVmmKeepsNoMoreThanItGranted() throws Exception {
        start();
        try (ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            listener.bind(UnixDomainSocketAddress.of(dir.resolve("vm1.vsock_7")));
            driver.send(fromGuest(9, 7, OP_REQUEST, 0, 0, 0), new byte[0]);
            assertEquals(OP_RESPONSE, driver.awaitPacket().header().op());
            try (SocketChannel accepted = listener.accept()) {
                // The host program reads nothing: past its socket buffer the VMM keeps up to the credit, then resets.
                byte[] chunk = new byte[60_000];
                int sent = 0;
                boolean reset = false;
                for (int i = 0; i < 200 && !reset; i++) {
                    driver.send(fromGuest(9, 7, OP_RW, chunk.length, 0, 0), chunk);
                    sent += chunk.length;
                    for (VsockDriver.Packet p : driver.drain()) {
                        reset |= p.header().op() == OP_RST;
                    }
                }
                assertTrue(reset, "a guest past its credit is reset (sent " + sent + " bytes)");
                assertTrue(accepted.isOpen());
                assertEquals(0, vsock.connections());
                assertFalse(driver.broken());
            }
        }
    }

    @Test
    void aBadConnectLineClosesTheClient() throws Exception {
        start();
        try (SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
            ch.write(ByteBuffer.wrap("HELLO there\n".getBytes(StandardCharsets.US_ASCII)));
            assertNull(readLine(ch));
        }
        try (SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
            ch.write(ByteBuffer.wrap("CONNECT 99999999999\n".getBytes(StandardCharsets.US_ASCII)));
            assertNull(readLine(ch));
        }
    }

    @Test
    void aHostProgramToAPortNobodyListensOnInTheGuestIsClosed() throws Exception {
        start();
        try (SocketChannel client = hostConnect(53)) {
            VsockDriver.Packet req = driver.awaitPacket();
            driver.send(fromGuest(53, req.header().srcPort(), OP_RST, 0, 0, 0), new byte[0]);
            assertNull(readLine(client));
        }
    }

    @Test
    void aLiveSocketIsNotTakenOverAndAStaleOneIs() throws Exception {
        IOException e = assertThrows(IOException.class,
                () -> new VirtioVsock(socket, "second", RateLimitedLog.to(System.getLogger("test")), false));
        assertTrue(e.getMessage().contains("in use"), e.getMessage());
        Path file = dir.resolve("plain");
        Files.writeString(file, "x");
        IOException notSocket = assertThrows(IOException.class,
                () -> new VirtioVsock(file, "third", RateLimitedLog.to(System.getLogger("test")), false));
        assertTrue(notSocket.getMessage().contains("not a socket"), notSocket.getMessage());
        transport.close();   // closes the device: the socket file goes
        assertFalse(Files.exists(socket));
        // A file left by a VMM that died (nobody answers) is replaced.
        Path stale = dir.resolve("stale.vsock");
        try (ServerSocketChannel dead = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            dead.bind(UnixDomainSocketAddress.of(stale));
        }
        assertTrue(Files.exists(stale));
        VirtioVsock again = new VirtioVsock(stale, "again", RateLimitedLog.to(System.getLogger("test")), false);
        again.close();
    }

    @Test
    void aRestoredDeviceTellsTheGuestItsStreamsAreGone() throws Exception {
        transport.close();
        vsock = new VirtioVsock(dir.resolve("restored.vsock"), "restored", RateLimitedLog.to(System.getLogger("test")), true);
        transport = new VirtioMmioTransport("vsock", vsock, memory, new CountingTrigger());
        driver = new VsockDriver(memory, transport);
        start();
        driver.offerEvent();
        assertEquals(List.of(VirtioVsock.EVENT_TRANSPORT_RESET), driver.takeEvents());

        // A host program that connects before the guest has handled the reset waits: the guest would reset a new
        // stream too. Giving the event buffer back is how Linux says it is done.
        try (SocketChannel client = SocketChannel.open(UnixDomainSocketAddress.of(dir.resolve("restored.vsock")))) {
            client.write(ByteBuffer.wrap("CONNECT 1024\n".getBytes(StandardCharsets.US_ASCII)));
            Thread.sleep(300);
            assertEquals(List.of(), driver.received(), "no request before the guest handled the reset");
            driver.offerEvent();
            VsockDriver.Packet req = driver.awaitPacket();
            assertEquals(VsockHeader.OP_REQUEST, req.header().op());
            assertEquals(1024, req.header().dstPort());
        }
    }

    @Test
    void theDeviceResetClosesEveryStream() throws Exception {
        start();
        try (SocketChannel client = hostConnect(52)) {
            establishFromHost(client);
            assertEquals(1, vsock.connections());
            driver.rx.reg(VirtioMmioTransport.REG_STATUS, 0);
            assertEquals(0, vsock.connections());
            assertNull(readLine(client));
        }
    }
}
