package hg.vmm.internal.virtio.vsock;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HybridHostTest {
    @TempDir
    Path dir;

    @Test
    void anIdleHostsWatchDoesNotWakeUp() throws Exception {
        try (HybridHost host = HybridHost.listen(dir.resolve("vm1.vsock"), "idle-vsock", TimeUnit.MILLISECONDS.toNanos(50))) {
            Thread.sleep(300);
            long before = host.rounds();
            Thread.sleep(1_200);
            assertEquals(before, host.rounds(), "wake-ups of a watch with nothing to watch for");
        }
    }

    @Test
    void aClientThatNeverFinishesItsConnectLineIsClosedAfterTheLineTimeout() throws Exception {
        Path socket = dir.resolve("vm1.vsock");
        try (HybridHost host = HybridHost.listen(socket, "slow-vsock", TimeUnit.MILLISECONDS.toNanos(200));
             SocketChannel slow = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
            slow.write(ByteBuffer.wrap("CONN".getBytes(StandardCharsets.US_ASCII)));
            long t0 = System.nanoTime();
            assertEquals(-1, slow.read(ByteBuffer.allocate(1)), "the host closes the client");
            long waitedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertTrue(waitedMs >= 150 && waitedMs < 2_000, "closed after " + waitedMs + " ms");
            assertNull(host.poll(), "nothing reaches the device");

            // the watch goes back to waiting for the next client, which it serves
            try (SocketChannel next = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
                next.write(ByteBuffer.wrap("CONNECT 52\n".getBytes(StandardCharsets.US_ASCII)));
                HostEvent e = awaitEvent(host);
                HostEvent.Connect c = assertInstanceOf(HostEvent.Connect.class, e);
                assertEquals(52, c.port());
                c.channel().close();
            }
        }
    }

    private static HostEvent awaitEvent(HybridHost host) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        HostEvent e;
        while ((e = host.poll()) == null && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        return e;
    }
}
