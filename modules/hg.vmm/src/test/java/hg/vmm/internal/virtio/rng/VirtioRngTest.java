package hg.vmm.internal.virtio.rng;

import hg.vmm.internal.log.RateLimitedLog;
import hg.vmm.internal.virtio.MockDriver;
import hg.vmm.internal.virtio.VirtioMmioTransport;
import hg.vmm.internal.virtio.Virtio;
import hg.vmm.internal.bus.CountingTrigger;
import hg.kvm.GuestMemory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.channels.Channels;
import java.util.Arrays;
import java.util.List;

import static hg.vmm.internal.virtio.MockDriver.Buf;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class VirtioRngTest {

    static final long FEATURES = Virtio.bit(Virtio.F_VERSION_1);
    static final long DATA = 0x10000;

    final GuestMemory memory = GuestMemory.allocate(List.of(new GuestMemory.Range(0, 0x200000)));
    final CountingTrigger irq = new CountingTrigger();
    VirtioMmioTransport transport;
    MockDriver driver;

    @AfterEach
    void close() {
        if (transport != null) {
            transport.close();
        }
        memory.close();
    }

    void attach(VirtioRng rng) {
        transport = new VirtioMmioTransport("rng", rng, memory, irq);
        driver = new MockDriver(memory, transport, 16, 0x1000);
        assertEquals(VirtioRng.DEVICE_ID, driver.reg(VirtioMmioTransport.REG_DEVICE_ID));
        assertNotEquals(0, driver.setUp(FEATURES) & Virtio.STATUS_DRIVER_OK);
    }

    static byte[] pattern(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 7 + 3);
        }
        return b;
    }

    /** Offers one chain, notifies, returns the used length. */
    int request(List<Buf> bufs) {
        driver.offer(driver.chain(bufs));
        driver.notifyQueue();
        List<int[]> used = driver.takeUsed();
        assertEquals(1, used.size());
        return used.getFirst()[1];
    }

    @Test
    void fillsWritableBuffersFromTheSourceInOrder() {
        byte[] source = pattern(1000);
        attach(new VirtioRng(Channels.newChannel(new ByteArrayInputStream(source))));
        assertEquals(96, request(List.of(Buf.in(DATA, 32), Buf.in(DATA + 0x100, 64))));
        assertArrayEquals(Arrays.copyOfRange(source, 0, 32), memory.read(DATA, 32));
        assertArrayEquals(Arrays.copyOfRange(source, 32, 96), memory.read(DATA + 0x100, 64));
        assertEquals(1, irq.take());
        assertEquals(16, request(List.of(Buf.in(DATA, 16))));
        assertArrayEquals(Arrays.copyOfRange(source, 96, 112), memory.read(DATA, 16));
    }

    @Test
    void urandomGivesFreshBytesEachTime() throws IOException {
        attach(VirtioRng.fromUrandom());
        assertEquals(64, request(List.of(Buf.in(DATA, 64))));
        byte[] first = memory.read(DATA, 64);
        assertEquals(64, request(List.of(Buf.in(DATA, 64))));
        byte[] second = memory.read(DATA, 64);
        assertFalse(Arrays.equals(first, second));
        assertFalse(Arrays.equals(new byte[64], first));
    }

    @Test
    void everyDeviceSharesOneUrandomChannelThatOutlivesThem() throws IOException {
        VirtioRng first = VirtioRng.fromUrandom();
        first.close();
        attach(VirtioRng.fromUrandom());   // still readable after another device closed
        assertEquals(32, request(List.of(Buf.in(DATA, 32))));
        assertFalse(Arrays.equals(new byte[32], memory.read(DATA, 32)));
    }

    @Test
    void aHugeRequestGetsAtMostTheCap() throws IOException {
        attach(VirtioRng.fromUrandom());
        memory.fill(DATA, 0x100000, (byte) 0);
        assertEquals(VirtioRng.MAX_PER_REQUEST, request(List.of(Buf.in(DATA, 0x100000))));
        assertArrayEquals(new byte[1024], memory.read(DATA + VirtioRng.MAX_PER_REQUEST, 1024), "nothing past the cap");
    }

    @Test
    void readableBuffersAreLeftAlone() {
        attach(new VirtioRng(Channels.newChannel(new ByteArrayInputStream(pattern(100)))));
        memory.fill(DATA, 16, (byte) 0x55);
        assertEquals(8, request(List.of(Buf.out(DATA, 16), Buf.in(DATA + 0x100, 8))));
        assertArrayEquals(filled(16, 0x55), memory.read(DATA, 16));
    }

    @Test
    void anExhaustedSourceAnswersWithWhatItHad() {
        attach(new VirtioRng(Channels.newChannel(new ByteArrayInputStream(pattern(10)))));
        assertEquals(10, request(List.of(Buf.in(DATA, 64))));
        assertEquals(0, request(List.of(Buf.in(DATA, 64))));
    }

    @Test
    void aBufferOutsideGuestMemoryBreaksTheDeviceNotTheVmm() {
        attach(new VirtioRng(Channels.newChannel(new ByteArrayInputStream(pattern(100)))));
        driver.offer(driver.chain(List.of(Buf.in(0x1ff000, 0x2000))));
        driver.notifyQueue();
        assertTrue(driver.takeUsed().isEmpty());
        assertNotEquals(0, driver.reg(VirtioMmioTransport.REG_STATUS) & Virtio.STATUS_DEVICE_NEEDS_RESET);
        assertNotNull(transport.failure());
        // After a reset it works again.
        driver = new MockDriver(memory, transport, 16, 0x1000);
        assertNotEquals(0, driver.setUp(FEATURES) & Virtio.STATUS_DRIVER_OK);
        assertEquals(8, request(List.of(Buf.in(DATA, 8))));
    }

    @Test
    void aFailingSourceIsLoggedAFewTimesNotOncePerRequest() {
        List<String> lines = new java.util.ArrayList<>();
        RateLimitedLog warnings = new RateLimitedLog((level, text) -> lines.add(text), 3, java.time.Duration.ofMinutes(1), () -> 0L);
        attach(new VirtioRng(new java.nio.channels.ReadableByteChannel() {
            @Override
            public int read(java.nio.ByteBuffer dst) throws IOException {
                throw new IOException("no entropy");
            }

            @Override
            public boolean isOpen() {
                return true;
            }

            @Override
            public void close() {
            }
        }, warnings));
        for (int i = 0; i < 20; i++) {
            assertEquals(0, request(List.of(Buf.in(DATA, 16))));
        }
        assertEquals(3, lines.size());
        assertEquals(17, warnings.suppressed());
    }

    static byte[] filled(int n, int v) {
        byte[] b = new byte[n];
        Arrays.fill(b, (byte) v);
        return b;
    }
}
