package hg.vmm.internal.virtio.rng;

import hg.kvm.GuestMemory;
import hg.vmm.internal.virtio.MockDriver;
import hg.vmm.internal.virtio.Virtio;
import hg.vmm.internal.virtio.VirtioMmioTransport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.nio.channels.Channels;
import java.util.List;

import static hg.vmm.internal.virtio.MockDriver.Buf;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** However large the guest's buffers, one request gets at most the cap. */
class VirtioRngLimitsTest {

    static final long DATA = 0x100000;
    /** Over 2 GiB of guest memory, mapped without reserving it: only what the test touches costs. */
    static final long MEMORY = (1L << 31) + (16L << 20);

    final GuestMemory memory = GuestMemory.map(List.of(new GuestMemory.Range(0, MEMORY)));
    VirtioMmioTransport transport;

    @AfterEach
    void close() {
        if (transport != null) {
            transport.close();
        }
        memory.close();
    }

    @Test
    void aTwoGibibyteBufferGetsTheCap() {
        byte[] entropy = new byte[4 * VirtioRng.MAX_PER_REQUEST];
        java.util.Arrays.fill(entropy, (byte) 0x5a);
        transport = new VirtioMmioTransport("rng",
                new VirtioRng(Channels.newChannel(new ByteArrayInputStream(entropy))), memory, () -> { });
        MockDriver driver = new MockDriver(memory, transport, 16, 0x1000);
        driver.setUp(Virtio.bit(Virtio.F_VERSION_1));
        int huge = (int) ((1L << 31) + 4096);   // the descriptor's u32 length
        driver.offer(driver.chain(List.of(Buf.in(DATA, huge))));
        driver.notifyQueue();
        List<int[]> used = driver.takeUsed();
        assertEquals(1, used.size());
        assertEquals(VirtioRng.MAX_PER_REQUEST, used.getFirst()[1]);
        assertArrayEquals(new byte[16], memory.read(DATA + VirtioRng.MAX_PER_REQUEST, 16), "nothing past the cap");
        assertNull(transport.failure());
    }
}
