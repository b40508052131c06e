package hg.vmm.internal.virtio.block;

import hg.vmm.internal.virtio.MockDriver;
import hg.vmm.internal.virtio.VirtioMmioTransport;
import hg.vmm.internal.virtio.Virtio;
import hg.vmm.internal.bus.CountingTrigger;
import hg.kvm.GuestMemory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static hg.vmm.internal.virtio.MockDriver.Buf;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class VirtioBlockTest {

    static final long FEATURES = Virtio.bit(Virtio.F_VERSION_1) | Virtio.bit(Virtio.F_INDIRECT_DESC)
            | Virtio.bit(Virtio.F_EVENT_IDX) | Virtio.bit(VirtioBlock.F_FLUSH);
    static final long HEADER = 0x10000, STATUS = 0x10100, DATA = 0x20000;
    static final int SECTORS = 64;

    @TempDir
    Path dir;

    final GuestMemory memory = GuestMemory.allocate(List.of(new GuestMemory.Range(0, 0x80000)));
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

    Path image(int sectors) throws IOException {
        Path p = dir.resolve("disk.img");
        byte[] content = new byte[sectors * 512];
        for (int s = 0; s < sectors; s++) {
            Arrays.fill(content, s * 512, (s + 1) * 512, (byte) s);
        }
        Files.write(p, content);
        return p;
    }

    void attach(Path image, boolean readOnly) throws IOException {
        VirtioBlock blk = new VirtioBlock(DiskImage.open(image, readOnly), "hg-disk-0123456789abcdef");
        transport = new VirtioMmioTransport("blk", blk, memory, irq);
        driver = new MockDriver(memory, transport, 16, 0x1000);
    }

    void attach(BlockBackend backend) {
        VirtioBlock blk = new VirtioBlock(backend, "hg-clone");
        transport = new VirtioMmioTransport("blk", blk, memory, irq);
        driver = new MockDriver(memory, transport, 16, 0x1000);
    }

    /** Sends one request and returns {status, used length}. */
    int[] request(int type, long sector, List<Buf> data) {
        memory.writeU32(HEADER, type);
        memory.writeU32(HEADER + 4, 0);
        memory.writeU64(HEADER + 8, sector);
        memory.writeU8(STATUS, 0xee);
        java.util.ArrayList<Buf> chain = new java.util.ArrayList<>();
        chain.add(Buf.out(HEADER, 16));
        chain.addAll(data);
        chain.add(Buf.in(STATUS, 1));
        int before = driver.usedIdx();
        driver.offer(driver.chain(chain));
        driver.notifyQueue();
        driver.awaitUsed((before + 1) & 0xffff);   // a flush is served by a disk thread
        List<int[]> used = driver.takeUsed();
        assertEquals(1, used.size());
        return new int[] {memory.readU8(STATUS), used.getFirst()[1]};
    }

    byte[] config(int offset, int length) {
        byte[] b = new byte[length];
        transport.read(VirtioMmioTransport.REG_CONFIG + offset, b);
        return b;
    }

    @Test
    void announcesCapacityLimitsAndFeatures() throws IOException {
        attach(image(SECTORS), false);
        assertEquals(Virtio.DEVICE_ID_BLOCK, driver.reg(VirtioMmioTransport.REG_DEVICE_ID));
        byte[] cap = config(0, 8);
        assertEquals(SECTORS, java.nio.ByteBuffer.wrap(cap).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong());
        assertEquals(VirtioBlock.SEG_MAX, java.nio.ByteBuffer.wrap(config(12, 4)).order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt());
        long f = driver.deviceFeatures();
        assertNotEquals(0, f & Virtio.bit(Virtio.F_VERSION_1));
        assertNotEquals(0, f & Virtio.bit(VirtioBlock.F_FLUSH));
        assertNotEquals(0, f & Virtio.bit(VirtioBlock.F_SEG_MAX));
        assertNotEquals(0, f & Virtio.bit(VirtioBlock.F_SIZE_MAX));
        assertEquals(0, f & Virtio.bit(VirtioBlock.F_RO));
    }

    @Test
    void aReplacedFileServesTheNextRequestsWithItsCapacityAndTheDriverIsTold() throws IOException {
        attach(image(SECTORS), false);
        driver.setUp(FEATURES);
        irq.take();
        Path bigger = dir.resolve("bigger.img");
        byte[] content = new byte[2 * SECTORS * 512];
        Arrays.fill(content, (byte) 0x5a);
        Files.write(bigger, content);
        VirtioBlock blk = (VirtioBlock) transport.device();
        BlockBackend old = blk.replace(ImageBackend.of(DiskImage.open(bigger, false)));
        old.close();
        transport.configChanged();
        assertEquals(1, irq.take(), "a config-change interrupt");
        assertEquals(2 * SECTORS, java.nio.ByteBuffer.wrap(config(0, 8)).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong());
        int[] r = request(VirtioBlock.T_IN, 2 * SECTORS - 1, List.of(Buf.in(DATA, 512)));
        assertEquals(VirtioBlock.S_OK, r[0]);
        assertEquals(0x5a, memory.readU8(DATA + 511));
        Path other = Files.write(dir.resolve("other.img"), new byte[512]);
        BlockBackend readOnly = ImageBackend.of(DiskImage.open(other, true));
        try {
            assertThrows(IllegalArgumentException.class, () -> blk.replace(readOnly), "a read-write disk stays read-write");
        } finally {
            readOnly.close();
        }
    }

    @Test
    void writeFlushReadBackAndTheFileHoldsTheData() throws IOException {
        Path img = image(SECTORS);
        attach(img, false);
        driver.setUp(FEATURES);
        byte[] payload = new byte[1024];
        for (int i = 0; i < payload.length; i++) {
            payload[i] = (byte) (i * 7 + 3);
        }
        memory.write(DATA, payload);
        // Two segments: the data of one request may be split anywhere on sector multiples.
        int[] r = request(VirtioBlock.T_OUT, 5, List.of(Buf.out(DATA, 512), Buf.out(DATA + 512, 512)));
        assertEquals(VirtioBlock.S_OK, r[0]);
        assertEquals(1, r[1]);
        assertEquals(VirtioBlock.S_OK, request(VirtioBlock.T_FLUSH, 0, List.of())[0]);
        memory.fill(DATA + 0x1000, 1536, (byte) 0);
        r = request(VirtioBlock.T_IN, 4, List.of(Buf.in(DATA + 0x1000, 1536)));
        assertEquals(VirtioBlock.S_OK, r[0]);
        assertEquals(1537, r[1]);
        byte[] back = memory.read(DATA + 0x1000, 1536);
        byte[] sector4 = new byte[512];
        Arrays.fill(sector4, (byte) 4);
        assertArrayEquals(sector4, Arrays.copyOfRange(back, 0, 512));
        assertArrayEquals(payload, Arrays.copyOfRange(back, 512, 1536));
        byte[] file = Files.readAllBytes(img);
        assertArrayEquals(payload, Arrays.copyOfRange(file, 5 * 512, 7 * 512));
        assertEquals(7, file[7 * 512]);
    }

    /**
     * Offers {@code count} requests of {@code bytes} at once (request i at byte i * bytes of the disk and of
     * {@code data}, each with its own header and status), notifies once and waits for all.
     */
    void requestsAtOnce(MockDriver d, int type, int count, long data, int bytes) {
        int before = d.usedIdx();
        for (int i = 0; i < count; i++) {
            memory.writeU32(HEADER + 16L * i, type);
            memory.writeU32(HEADER + 16L * i + 4, 0);
            memory.writeU64(HEADER + 16L * i + 8, (long) i * bytes / 512);
            memory.writeU8(STATUS + i, 0xee);
            d.offer(d.chain(List.of(Buf.out(HEADER + 16L * i, 16),
                    type == VirtioBlock.T_IN ? Buf.in(data + (long) bytes * i, bytes) : Buf.out(data + (long) bytes * i, bytes),
                    Buf.in(STATUS + i, 1))));
        }
        d.notifyQueue();
        d.awaitUsed((before + count) & 0xffff);
        for (int i = 0; i < count; i++) {
            assertEquals(VirtioBlock.S_OK, memory.readU8(STATUS + i), "request " + i);
        }
    }

    @Test
    void requestsOfferedTogetherAreServedTogetherAndEachLandsWhereItSays() throws IOException {
        Path img = image(SECTORS);
        VirtioBlock blk = new VirtioBlock(DiskImage.open(img, false), "together");
        transport = new VirtioMmioTransport("blk", blk, memory, irq);
        MockDriver d = new MockDriver(memory, transport, 64, 0x1000);
        d.setUp(FEATURES);
        int count = 12;
        for (int i = 0; i < count; i++) {
            memory.slice(DATA + 1024L * i, 1024).fill((byte) (0x40 + i));
        }
        requestsAtOnce(d, VirtioBlock.T_OUT, count, DATA, 1024);
        byte[] file = Files.readAllBytes(img);
        for (int i = 0; i < count; i++) {
            for (int b = 0; b < 1024; b++) {
                assertEquals((byte) (0x40 + i), file[i * 1024 + b], "sector pair " + i);
            }
        }
        requestsAtOnce(d, VirtioBlock.T_IN, count, 0x40000, 1024);
        for (int i = 0; i < count; i++) {
            assertEquals(0x40 + i, memory.readU8(0x40000 + 1024L * i + 1023));
        }
        assertEquals(new VirtioBlock.Transferred(count * 1024L, count * 1024L), blk.transferred());
    }

    /**
     * Writes and flushes offered together: the flushes go to the disk threads while the I/O thread goes on
     * with the writes, so they come back in any order, and each write lands where it says.
     */
    @Test
    void flushesAmongWritesOfferedTogetherAllComeBackAndTheWritesLand() throws IOException {
        int bytes = 4096;
        int writes = 6;
        Path img = image(writes * bytes / 512);
        VirtioBlock blk = new VirtioBlock(DiskImage.open(img, false), "mixed");
        transport = new VirtioMmioTransport("blk", blk, memory, irq);
        MockDriver d = new MockDriver(memory, transport, 64, 0x1000);
        d.setUp(FEATURES);
        for (int i = 0; i < 2 * writes; i++) {
            boolean flush = i % 2 == 1;
            int w = i / 2;
            memory.writeU32(HEADER + 16L * i, flush ? VirtioBlock.T_FLUSH : VirtioBlock.T_OUT);
            memory.writeU32(HEADER + 16L * i + 4, 0);
            memory.writeU64(HEADER + 16L * i + 8, flush ? 0 : (long) w * bytes / 512);
            memory.writeU8(STATUS + i, 0xee);
            if (flush) {
                d.offer(d.chain(List.of(Buf.out(HEADER + 16L * i, 16), Buf.in(STATUS + i, 1))));
            } else {
                memory.slice(DATA + (long) bytes * w, bytes).fill((byte) (0x70 + w));
                d.offer(d.chain(List.of(Buf.out(HEADER + 16L * i, 16), Buf.out(DATA + (long) bytes * w, bytes),
                        Buf.in(STATUS + i, 1))));
            }
        }
        d.notifyQueue();
        d.awaitUsed(2 * writes);
        for (int i = 0; i < 2 * writes; i++) {
            assertEquals(VirtioBlock.S_OK, memory.readU8(STATUS + i), "request " + i);
        }
        byte[] file = Files.readAllBytes(img);
        for (int w = 0; w < writes; w++) {
            assertEquals((byte) (0x70 + w), file[w * bytes], "write " + w);
            assertEquals((byte) (0x70 + w), file[(w + 1) * bytes - 1], "write " + w);
        }
    }

    @Test
    void theCountersMoveByExactlyTheBytesRequestsTransferred() throws IOException {
        attach(image(SECTORS), false);
        driver.setUp(FEATURES);
        VirtioBlock blk = (VirtioBlock) transport.device();
        assertEquals(new VirtioBlock.Transferred(0, 0), blk.transferred());
        assertEquals(VirtioBlock.S_OK, request(VirtioBlock.T_OUT, 3, List.of(Buf.out(DATA, 512), Buf.out(DATA + 512, 1024)))[0]);
        assertEquals(new VirtioBlock.Transferred(0, 1536), blk.transferred(), "both segments of the write");
        assertEquals(VirtioBlock.S_OK, request(VirtioBlock.T_IN, 0, List.of(Buf.in(DATA + 0x1000, 2048)))[0]);
        assertEquals(new VirtioBlock.Transferred(2048, 1536), blk.transferred());
        // Requests that move no data, or are refused before any does, count nothing.
        assertEquals(VirtioBlock.S_OK, request(VirtioBlock.T_FLUSH, 0, List.of())[0]);
        assertEquals(VirtioBlock.S_OK, request(VirtioBlock.T_GET_ID, 0, List.of(Buf.in(DATA, 20)))[0]);
        assertEquals(VirtioBlock.S_IOERR, request(VirtioBlock.T_IN, SECTORS, List.of(Buf.in(DATA, 512)))[0]);
        assertEquals(VirtioBlock.S_IOERR, request(VirtioBlock.T_OUT, SECTORS - 1, List.of(Buf.out(DATA, 1024)))[0]);
        assertEquals(VirtioBlock.S_IOERR, request(VirtioBlock.T_IN, 0, List.of(Buf.in(DATA, 100)))[0]);
        assertEquals(new VirtioBlock.Transferred(2048, 1536), blk.transferred());
    }

    @Test
    void aReadOnlyDiskCountsItsReadsAndNoRefusedWrite() throws IOException {
        attach(image(SECTORS), true);
        driver.setUp(FEATURES);
        VirtioBlock blk = (VirtioBlock) transport.device();
        assertEquals(VirtioBlock.S_IOERR, request(VirtioBlock.T_OUT, 0, List.of(Buf.out(DATA, 512)))[0]);
        assertEquals(VirtioBlock.S_OK, request(VirtioBlock.T_IN, 1, List.of(Buf.in(DATA, 512), Buf.in(DATA + 0x1000, 512)))[0]);
        assertEquals(new VirtioBlock.Transferred(1024, 0), blk.transferred());
    }

    @Test
    void indirectRequestsWork() throws IOException {
        attach(image(SECTORS), false);
        driver.setUp(FEATURES);
        memory.writeU32(HEADER, VirtioBlock.T_IN);
        memory.writeU64(HEADER + 8, 9);
        int head = driver.indirectChain(0x9000, List.of(Buf.out(HEADER, 16), Buf.in(DATA, 512), Buf.in(STATUS, 1)));
        driver.offer(head);
        driver.notifyQueue();
        assertEquals(1, driver.takeUsed().size());
        assertEquals(VirtioBlock.S_OK, memory.readU8(STATUS));
        assertEquals(9, memory.readU8(DATA + 511));
    }

    @Test
    void getIdReturnsTheSerial() throws IOException {
        attach(image(SECTORS), false);
        driver.setUp(FEATURES);
        int[] r = request(VirtioBlock.T_GET_ID, 0, List.of(Buf.in(DATA, 20)));
        assertEquals(VirtioBlock.S_OK, r[0]);
        assertEquals(21, r[1]);
        assertEquals("hg-disk-0123456789ab", new String(memory.read(DATA, 20), StandardCharsets.US_ASCII));
    }

    @Test
    void badRequestsGetErrorStatusesAndTheDeviceGoesOn() throws IOException {
        Path img = image(SECTORS);
        attach(img, false);
        driver.setUp(FEATURES);
        // Past the end, partly past the end, not a sector multiple, data in the wrong direction.
        assertEquals(VirtioBlock.S_IOERR, request(VirtioBlock.T_IN, SECTORS, List.of(Buf.in(DATA, 512)))[0]);
        assertEquals(VirtioBlock.S_IOERR, request(VirtioBlock.T_OUT, SECTORS - 1, List.of(Buf.out(DATA, 1024)))[0]);
        assertEquals(VirtioBlock.S_IOERR, request(VirtioBlock.T_IN, 0, List.of(Buf.in(DATA, 100)))[0]);
        assertEquals(VirtioBlock.S_IOERR, request(VirtioBlock.T_IN, Long.MAX_VALUE / 256, List.of(Buf.in(DATA, 512)))[0]);
        assertEquals(VirtioBlock.S_IOERR, request(VirtioBlock.T_IN, -1, List.of(Buf.in(DATA, 512)))[0]);
        assertEquals(VirtioBlock.S_IOERR, request(VirtioBlock.T_OUT, 0, List.of(Buf.in(DATA, 512)))[0]);
        assertEquals(VirtioBlock.S_UNSUPP, request(77, 0, List.of())[0]);
        assertNull(transport.failure());
        assertEquals(SECTORS * 512L, Files.size(img));
        assertEquals(VirtioBlock.S_OK, request(VirtioBlock.T_IN, 0, List.of(Buf.in(DATA, 512)))[0]);
    }

    @Test
    void aShortHeaderIsAnIoError() throws IOException {
        attach(image(SECTORS), false);
        driver.setUp(FEATURES);
        driver.offer(driver.chain(List.of(Buf.out(HEADER, 8), Buf.in(STATUS, 1))));
        driver.notifyQueue();
        driver.takeUsed();
        assertEquals(VirtioBlock.S_IOERR, memory.readU8(STATUS));
    }

    @Test
    void aRequestWithoutStatusByteBreaksTheDevice() throws IOException {
        attach(image(SECTORS), false);
        driver.setUp(FEATURES);
        driver.offer(driver.chain(List.of(Buf.out(HEADER, 16))));
        driver.notifyQueue();
        assertNotEquals(0, driver.reg(VirtioMmioTransport.REG_STATUS) & Virtio.STATUS_DEVICE_NEEDS_RESET);
    }

    @Test
    void readOnlyImagesRefuseWrites() throws IOException {
        Path img = image(SECTORS);
        byte[] before = Files.readAllBytes(img);
        attach(img, true);
        assertNotEquals(0, driver.deviceFeatures() & Virtio.bit(VirtioBlock.F_RO));
        driver.setUp(FEATURES | Virtio.bit(VirtioBlock.F_RO));
        memory.fill(DATA, 512, (byte) 0x77);
        assertEquals(VirtioBlock.S_IOERR, request(VirtioBlock.T_OUT, 1, List.of(Buf.out(DATA, 512)))[0]);
        assertEquals(VirtioBlock.S_OK, request(VirtioBlock.T_IN, 3, List.of(Buf.in(DATA, 512)))[0]);
        assertEquals(3, memory.readU8(DATA));
        assertEquals(VirtioBlock.S_OK, request(VirtioBlock.T_FLUSH, 0, List.of())[0]);
        assertArrayEquals(before, Files.readAllBytes(img));
    }

    @Test
    void aCloneWritesItsOverlayAndReadsTheRestFromTheBase() throws IOException {
        Path img = image(SECTORS);
        byte[] before = Files.readAllBytes(img);
        CowOverlay overlay = CowOverlay.create(img, dir.resolve("clone.cow"), false);
        attach(overlay);
        assertEquals(0, driver.deviceFeatures() & Virtio.bit(VirtioBlock.F_RO));
        driver.setUp(FEATURES);
        memory.fill(DATA, 1024, (byte) 0x77);
        // Sectors 7 and 8: one sector each side of the first cluster's end.
        assertEquals(VirtioBlock.S_OK, request(VirtioBlock.T_OUT, 7, List.of(Buf.out(DATA, 512), Buf.out(DATA + 512, 512)))[0]);
        assertEquals(VirtioBlock.S_OK, request(VirtioBlock.T_FLUSH, 0, List.of())[0]);
        memory.fill(DATA + 0x1000, 5 * 512, (byte) 0);
        assertEquals(VirtioBlock.S_OK, request(VirtioBlock.T_IN, 5, List.of(Buf.in(DATA + 0x1000, 5 * 512)))[0]);
        byte[] back = memory.read(DATA + 0x1000, 5 * 512);
        for (int s = 0; s < 5; s++) {
            int want = s == 2 || s == 3 ? 0x77 : s + 5;
            assertEquals(want, back[s * 512] & 0xff, "sector " + (s + 5));
            assertEquals(want, back[s * 512 + 511] & 0xff, "sector " + (s + 5));
        }
        assertEquals(2, overlay.writtenClusters());
        transport.close();
        transport = null;
        assertArrayEquals(before, Files.readAllBytes(img));
        DiskImage.open(img, false).close();
    }
}
