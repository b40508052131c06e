package hg.vmm.internal.virtio.vsock;

import hg.kvm.GuestMemory;
import hg.vmm.internal.bus.CountingTrigger;
import hg.vmm.internal.log.RateLimitedLog;
import hg.vmm.internal.virtio.MockDriver.Buf;
import hg.vmm.internal.virtio.VirtioMmioTransport;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

import static hg.vmm.internal.virtio.vsock.VsockHeader.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * A guest that does what it likes on the vsock: garbage packets, requests by the thousand, data past its
 * credit. The device answers with resets, never needs more than its bounds, and the VMM runs on.
 */
class VsockHostileDriverTest {

    interface Body {
        void run(VirtioVsock vsock, VsockDriver driver, Path dir) throws Exception;
    }

    static void withDevice(Body body) throws Exception {
        Path dir = Files.createTempDirectory("vsock-hostile");
        GuestMemory memory = GuestMemory.allocate(List.of(new GuestMemory.Range(0, 0x200000)));
        VirtioVsock vsock = new VirtioVsock(dir.resolve("vm.vsock"), "hostile", RateLimitedLog.to(System.getLogger("test")),
                false);
        VirtioMmioTransport transport = new VirtioMmioTransport("vsock", vsock, memory, new CountingTrigger());
        vsock.onHostEvents(() -> transport.processQueue(VirtioVsock.RX));
        try {
            VsockDriver driver = new VsockDriver(memory, transport);
            driver.setUp();
            driver.offerReceive(VsockDriver.SIZE);
            body.run(vsock, driver, dir);
        } finally {
            transport.close();
            memory.close();
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    @Property(tries = 200)
    void garbageFromTheGuestNeverBreaksTheDeviceOrLeavesAStream(@ForAll @Size(min = 1, max = 200) byte[] bytes)
            throws Exception {
        withDevice((vsock, driver, dir) -> {
            driver.memory.write(VsockDriver.TX_DATA, bytes);
            driver.tx.offer(driver.tx.chain(List.of(Buf.out(VsockDriver.TX_DATA, bytes.length))));
            driver.rx.reg(VirtioMmioTransport.REG_QUEUE_NOTIFY, VirtioVsock.TX);
            assertFalse(driver.broken());
            assertEquals(0, vsock.connections(), "nobody listens: no stream can come of it");
        });
    }

    @Property(tries = 30)
    void headersWithAnyFieldsAreAnsweredWithAtMostAReset(@ForAll int srcPort, @ForAll int dstPort,
                                                          @ForAll @IntRange(min = 0, max = 9) int op,
                                                          @ForAll @IntRange(min = 0, max = 3) int type,
                                                          @ForAll @IntRange(min = 0, max = 100_000) int len) throws Exception {
        withDevice((vsock, driver, dir) -> {
            driver.send(new VsockHeader(3, 2, srcPort, dstPort, len, type, op, 0, 1000, 0), new byte[Math.min(len, 100)]);
            for (VsockDriver.Packet p : driver.drain()) {
                assertEquals(OP_RST, p.header().op());
            }
            assertFalse(driver.broken());
        });
    }

    @org.junit.jupiter.api.Test
    void tenThousandConnectionRequestsLeaveTheStreamsAndResetsBounded() throws Exception {
        withDevice((vsock, driver, dir) -> {
            try (ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
                listener.bind(UnixDomainSocketAddress.of(dir.resolve("vm.vsock_80")), 10_000);
                int resets = 0;
                for (int i = 0; i < 10_000; i++) {
                    driver.send(new VsockHeader(3, 2, 100_000 + i, 80, 0, TYPE_STREAM, OP_REQUEST, 0, 1000, 0), new byte[0]);
                    assertTrue(vsock.connections() <= VirtioVsock.MAX_CONNECTIONS);
                    if (i % 16 == 15) {
                        List<VsockDriver.Packet> packets = driver.drain();
                        for (VsockDriver.Packet p : packets) {
                            resets += p.header().op() == OP_RST ? 1 : 0;
                        }
                        driver.offerReceive(packets.size());
                    }
                }
                assertEquals(VirtioVsock.MAX_CONNECTIONS, vsock.connections());
                assertTrue(resets > 0, "requests past the limit are reset");
                assertFalse(driver.broken());
            }
        });
    }

    @org.junit.jupiter.api.Test
    void aGuestThatNeverGivesReceiveBuffersMakesTheDeviceHoldOnlyBoundedResets() throws Exception {
        withDevice((vsock, driver, dir) -> {
            // The receive ring is full of the device's answers and the guest never reads them.
            for (int i = 0; i < 5_000; i++) {
                driver.send(new VsockHeader(3, 2, i, 7, 0, TYPE_STREAM, OP_RW, 0, 1000, 0), new byte[0]);
            }
            assertEquals(VsockDriver.SIZE, driver.drain().size(), "one reset per receive buffer");
            assertEquals(VirtioVsock.MAX_RESETS, vsock.pendingResets(), "the rest waits up to a bound and is dropped");
            assertFalse(driver.broken());
        });
    }

}
