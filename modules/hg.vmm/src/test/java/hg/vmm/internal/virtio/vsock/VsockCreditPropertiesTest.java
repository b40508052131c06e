package hg.vmm.internal.virtio.vsock;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

import java.io.ByteArrayOutputStream;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static hg.vmm.internal.virtio.vsock.VsockHeader.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Host to guest under random interleavings of what the host program writes, how much buffer the guest
 * has and when it reads: the device never sends past the guest's credit, and every byte arrives once, in
 * order.
 */
class VsockCreditPropertiesTest {

    @Property(tries = 10)
    void bytesNeverExceedTheCreditAndArriveOnceInOrder(@ForAll @IntRange(min = 512, max = 20_000) int guestBuffer,
                                                         @ForAll @Size(min = 1, max = 6) List<@IntRange(min = 1, max = 30_000) Integer> writes,
                                                         @ForAll @Size(min = 1, max = 6) List<@IntRange(min = 0, max = 20_000) Integer> reads)
            throws Exception {
        VsockHostileDriverTest.withDevice((vsock, driver, dir) -> {
            try (SocketChannel client = SocketChannel.open(UnixDomainSocketAddress.of(dir.resolve("vm.vsock")))) {
                client.write(ByteBuffer.wrap("CONNECT 52\n".getBytes(StandardCharsets.US_ASCII)));
                VsockDriver.Packet req = driver.awaitPacket();
                int hostPort = req.header().srcPort();
                driver.offerReceive(1);
                int consumed = 0;
                driver.send(new VsockHeader(3, 2, 52, hostPort, 0, TYPE_STREAM, OP_RESPONSE, 0, guestBuffer, consumed),
                        new byte[0]);
                VirtioVsockTest.readLine(client);
                ByteArrayOutputStream sent = new ByteArrayOutputStream();
                ByteArrayOutputStream got = new ByteArrayOutputStream();
                int counter = 0;
                for (int i = 0; i < Math.max(writes.size(), reads.size()); i++) {
                    if (i < writes.size()) {
                        byte[] w = new byte[writes.get(i)];
                        for (int j = 0; j < w.length; j++) {
                            w[j] = (byte) (counter++ * 7 + 3);
                        }
                        client.write(ByteBuffer.wrap(w));
                        sent.write(w);
                    }
                    settle(driver, got);
                    assertTrue(got.size() - consumed <= guestBuffer,
                            "in flight " + (got.size() - consumed) + " past a buffer of " + guestBuffer);
                    if (i < reads.size()) {
                        consumed = Math.min(got.size(), consumed + reads.get(i));
                        driver.send(new VsockHeader(3, 2, 52, hostPort, 0, TYPE_STREAM, OP_CREDIT_UPDATE, 0, guestBuffer,
                                consumed), new byte[0]);
                    }
                }
                // The guest reads everything from now on: all of it arrives (each credit update brings more).
                long lastProgress = System.nanoTime();
                while (got.size() < sent.size() && System.nanoTime() - lastProgress < TimeUnit.SECONDS.toNanos(3)) {
                    consumed = got.size();
                    driver.send(new VsockHeader(3, 2, 52, hostPort, 0, TYPE_STREAM, OP_CREDIT_UPDATE, 0, guestBuffer,
                            consumed), new byte[0]);
                    long wait = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(200);
                    while (got.size() == consumed && System.nanoTime() < wait) {
                        take(driver, got);
                        Thread.sleep(1);
                    }
                    if (got.size() > consumed) {
                        lastProgress = System.nanoTime();
                    }
                }
                assertArrayEquals(sent.toByteArray(), got.toByteArray());
                assertFalse(driver.broken());
            }
        });
    }

    /** Takes what the device sent until it stops for a moment, giving back each buffer read. */
    private static void settle(VsockDriver driver, ByteArrayOutputStream got) throws InterruptedException {
        int quiet = 0;
        while (quiet < 5) {
            quiet = take(driver, got) == 0 ? quiet + 1 : 0;
            Thread.sleep(4);
        }
    }

    private static int take(VsockDriver driver, ByteArrayOutputStream got) {
        List<VsockDriver.Packet> packets = driver.drain();
        for (VsockDriver.Packet p : packets) {
            assertEquals(OP_RW, p.header().op(), "only data on this stream");
            got.write(p.payload(), 0, p.payload().length);
        }
        driver.offerReceive(packets.size());
        return packets.size();
    }
}
