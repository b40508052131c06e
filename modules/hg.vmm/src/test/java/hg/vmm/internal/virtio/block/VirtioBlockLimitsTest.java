package hg.vmm.internal.virtio.block;

import hg.kvm.GuestMemory;
import hg.vmm.internal.virtio.MockDriver;
import hg.vmm.internal.virtio.Virtio;
import hg.vmm.internal.virtio.VirtioMmioTransport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static hg.vmm.internal.virtio.MockDriver.Buf;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * Requests beyond what the device advertises (SIZE_MAX per segment, SEG_MAX segments) fail
 * with an I/O error and the device goes on, however large the guest's buffers are.
 */
class VirtioBlockLimitsTest {

    static final long FEATURES = Virtio.bit(Virtio.F_VERSION_1) | Virtio.bit(Virtio.F_INDIRECT_DESC);
    static final long RINGS = 0x1000, INDIRECT = 0x8000, HEADER = 0x10000, STATUS = 0x10100, DATA = 0x100000;
    /** Over 2 GiB of guest memory, mapped without reserving it: only what a test touches costs. */
    static final long MEMORY = (1L << 31) + (16L << 20);
    static final long IMAGE = 3L << 30;

    @TempDir
    Path dir;

    final GuestMemory memory = GuestMemory.map(List.of(new GuestMemory.Range(0, MEMORY)));
    VirtioMmioTransport transport;
    MockDriver driver;

    @AfterEach
    void close() {
        if (transport != null) {
            transport.close();
        }
        memory.close();
    }

    void attach() throws IOException {
        Path image = dir.resolve("sparse.img");
        try (RandomAccessFile f = new RandomAccessFile(image.toFile(), "rw")) {
            f.setLength(IMAGE);   // sparse: large enough that no request fails for the capacity
        }
        transport = new VirtioMmioTransport("blk", new VirtioBlock(DiskImage.open(image, false), "limits"), memory, () -> { });
        driver = new MockDriver(memory, transport, VirtioBlock.QUEUE_SIZE, RINGS);
        driver.setUp(FEATURES);
    }

    /** Sends a request whose chain is {@code bufs} in an indirect table; returns the status byte. */
    int request(int type, List<Buf> bufs) {
        memory.writeU32(HEADER, type);
        memory.writeU64(HEADER + 8, 0);
        memory.writeU8(STATUS, 0xee);
        driver.offer(driver.indirectChain(INDIRECT, bufs));
        driver.notifyQueue();
        assertEquals(1, driver.takeUsed().size());
        return memory.readU8(STATUS);
    }

    static List<Buf> withHeaderAndStatus(List<Buf> data) {
        List<Buf> chain = new ArrayList<>();
        chain.add(Buf.out(HEADER, 16));
        chain.addAll(data);
        chain.add(Buf.in(STATUS, 1));
        return chain;
    }

    @Test
    void aSegmentLargerThanSizeMaxIsAnIoError() throws IOException {
        attach();
        assertEquals(VirtioBlock.S_IOERR, request(VirtioBlock.T_IN, withHeaderAndStatus(
                List.of(Buf.in(DATA, VirtioBlock.SIZE_MAX + 512)))));
        assertEquals(VirtioBlock.S_IOERR, request(VirtioBlock.T_OUT, withHeaderAndStatus(
                List.of(Buf.out(DATA, VirtioBlock.SIZE_MAX + 512)))));
        assertNull(transport.failure());
        assertEquals(VirtioBlock.S_OK, request(VirtioBlock.T_IN, withHeaderAndStatus(
                List.of(Buf.in(DATA, VirtioBlock.SIZE_MAX)))));
    }

    @Test
    void aTwoGibibyteBufferIsAnIoErrorNotABrokenDevice() throws IOException {
        attach();
        int huge = (int) ((1L << 31) + 512);   // the descriptor's u32 length
        assertEquals(VirtioBlock.S_IOERR, request(VirtioBlock.T_IN, withHeaderAndStatus(List.of(Buf.in(DATA, huge)))));
        assertEquals(VirtioBlock.S_IOERR, request(VirtioBlock.T_OUT, withHeaderAndStatus(List.of(Buf.out(DATA, huge)))));
        assertNull(transport.failure());
    }

    @Test
    void moreThanSegMaxSegmentsIsAnIoError() throws IOException {
        attach();
        // The header's buffer carries data too: SEG_MAX + 1 data segments in a chain the queue allows.
        List<Buf> chain = new ArrayList<>();
        chain.add(Buf.out(HEADER, 16 + 512));
        for (int i = 0; i < VirtioBlock.SEG_MAX; i++) {
            chain.add(Buf.out(DATA + 512L * i, 512));
        }
        chain.add(Buf.in(STATUS, 1));
        assertEquals(VirtioBlock.S_IOERR, request(VirtioBlock.T_OUT, chain));
        assertNull(transport.failure());

        List<Buf> most = new ArrayList<>();
        for (int i = 0; i < VirtioBlock.SEG_MAX; i++) {
            most.add(Buf.in(DATA + 512L * i, 512));
        }
        assertEquals(VirtioBlock.S_OK, request(VirtioBlock.T_IN, withHeaderAndStatus(most)));
    }
}
