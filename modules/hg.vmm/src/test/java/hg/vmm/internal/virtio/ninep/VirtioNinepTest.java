package hg.vmm.internal.virtio.ninep;

import hg.kvm.GuestMemory;
import hg.ninep.Share;
import hg.vmm.internal.bus.CountingTrigger;
import hg.vmm.internal.virtio.MockDriver;
import hg.vmm.internal.virtio.Virtio;
import hg.vmm.internal.virtio.VirtioMmioTransport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
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
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** virtio-9p through a mock driver: the config space, requests across buffers, broken chains. */
class VirtioNinepTest {
    static final long FEATURES = Virtio.bit(Virtio.F_VERSION_1) | Virtio.bit(Virtio.F_INDIRECT_DESC)
            | Virtio.bit(VirtioNinep.F_MOUNT_TAG);
    static final long OUT = 0x10000;
    static final long IN = 0x40000;
    static final int RLERROR = 7, RVERSION = 101, RATTACH = 105, RWALK = 111, RLOPEN = 13, RREAD = 117, RWRITE = 119;

    @TempDir
    Path dir;
    final GuestMemory memory = GuestMemory.allocate(List.of(new GuestMemory.Range(0, 0x200000)));
    final CountingTrigger irq = new CountingTrigger();
    VirtioMmioTransport transport;
    MockDriver driver;
    int tag;

    @BeforeEach
    void attach() throws IOException {
        Files.writeString(dir.resolve("hello"), "hello from the host");
        transport = new VirtioMmioTransport("9p", new VirtioNinep(new Share(dir, "hostshare", false)), memory, irq);
        driver = new MockDriver(memory, transport, 16, 0x1000);
        assertEquals(VirtioNinep.DEVICE_ID, driver.reg(VirtioMmioTransport.REG_DEVICE_ID));
        assertNotEquals(0, driver.setUp(FEATURES) & Virtio.STATUS_DRIVER_OK);
    }

    @AfterEach
    void close() {
        transport.close();
        memory.close();
    }

    /** Sends one request from one readable buffer into writable buffers of the given sizes; returns the reply. */
    byte[] rpc(byte[] request, int... writable) {
        memory.write(OUT, request);
        List<Buf> bufs = new java.util.ArrayList<>();
        bufs.add(Buf.out(OUT, request.length));
        long at = IN;
        for (int n : writable) {
            bufs.add(Buf.in(at, n));
            at += n + 0x100;   // gaps between the buffers: the reply must run on across them
        }
        int used = offer(bufs);
        byte[] reply = new byte[used];
        int done = 0;
        at = IN;
        for (int n : writable) {
            int take = Math.min(n, used - done);
            memory.read(at, reply, done, take);
            done += take;
            at += n + 0x100;
        }
        return reply;
    }

    int offer(List<Buf> bufs) {
        driver.offer(driver.chain(bufs));
        driver.notifyQueue();
        List<int[]> used = driver.takeUsed();
        assertEquals(1, used.size(), "answered: " + transport.failure());
        return used.getFirst()[1];
    }

    int tag() {
        return tag++;
    }

    void expect(int type, byte[] reply) {
        NinepMessages.Header h = NinepMessages.Header.of(reply);
        assertEquals(type, h.type(), "reply type (Rlerror " + (h.type() == RLERROR ? NinepMessages.u32(reply, 7) : 0) + ")");
        assertEquals(reply.length, h.size());
    }

    void mount() {
        expect(RVERSION, rpc(NinepMessages.version(tag(), 65536), 4096));
        expect(RATTACH, rpc(NinepMessages.attach(tag(), 1), 4096));
    }

    @Test
    void theConfigSpaceIsTheMountTag() {
        assertTrue((driver.deviceFeatures() & Virtio.bit(VirtioNinep.F_MOUNT_TAG)) != 0);
        byte[] config = new byte[2 + 9 + 4];
        for (int i = 0; i < config.length; i++) {
            byte[] one = new byte[1];
            transport.read(VirtioMmioTransport.REG_CONFIG + i, one);
            config[i] = one[0];
        }
        assertEquals(9, config[0] | config[1] << 8);
        assertEquals("hostshare", new String(config, 2, 9, StandardCharsets.UTF_8));
        assertArrayEquals(new byte[4], Arrays.copyOfRange(config, 11, 15), "no NUL, nothing after");
    }

    @Test
    void attachWalkOpenReadThroughTheQueue() {
        mount();
        expect(RWALK, rpc(NinepMessages.walk(tag(), 1, 2, "hello"), 4096));
        expect(RLOPEN, rpc(NinepMessages.lopen(tag(), 2, 0), 4096));
        byte[] reply = rpc(NinepMessages.read(tag(), 2, 0, 4096), 4096);
        expect(RREAD, reply);
        assertEquals("hello from the host", new String(reply, 11, NinepMessages.u32(reply, 7), StandardCharsets.UTF_8));
        assertTrue(irq.take() > 0);
    }

    /** Linux's zero-copy read: an 11-byte header buffer, then the payload's pages. */
    @Test
    void aReplyRunsOnAcrossWritableBuffers() throws IOException {
        byte[] big = new byte[10_000];
        new java.util.Random(3).nextBytes(big);
        Files.write(dir.resolve("big"), big);
        mount();
        expect(RWALK, rpc(NinepMessages.walk(tag(), 1, 2, "big"), 4096));
        expect(RLOPEN, rpc(NinepMessages.lopen(tag(), 2, 0), 4096));
        byte[] reply = rpc(NinepMessages.read(tag(), 2, 0, 10_000), 11, 4096, 4096, 4096);
        expect(RREAD, reply);
        assertEquals(10_000, NinepMessages.u32(reply, 7));
        assertArrayEquals(big, Arrays.copyOfRange(reply, 11, 11 + 10_000));
    }

    /** Linux's zero-copy write: the header in one readable buffer, the data in the pages after it. */
    @Test
    void aRequestRunsOnAcrossReadableBuffers() throws IOException {
        mount();
        expect(RWALK, rpc(NinepMessages.walk(tag(), 1, 2, "hello"), 4096));
        expect(RLOPEN, rpc(NinepMessages.lopen(tag(), 2, 2), 4096));
        byte[] data = "HELLO".getBytes();
        byte[] header = NinepMessages.writeHeader(tag(), 2, 0, data.length);
        memory.write(OUT, header);
        memory.write(OUT + 0x1000, data, 0, 2);
        memory.write(OUT + 0x2000, data, 2, 3);
        int used = offer(List.of(Buf.out(OUT, header.length), Buf.out(OUT + 0x1000, 2), Buf.out(OUT + 0x2000, 3),
                Buf.in(IN, 64)));
        byte[] reply = memory.read(IN, used);
        expect(RWRITE, reply);
        assertEquals(5, NinepMessages.u32(reply, 7));
        assertEquals("HELLO from the host", Files.readString(dir.resolve("hello")));
    }

    /**
     * A large write's data goes from the guest's pages to the file with no copy of ours: 60 KiB in 15
     * pages after the header. A header that claims more data than its chain has, or a size that disagrees
     * with its count, is an error and writes nothing.
     */
    @Test
    void aLargeWriteGoesStraightFromTheGuestsPages() throws IOException {
        driver = new MockDriver(memory, transport, VirtioNinep.QUEUE_SIZE, 0x1000);   // room for 17 buffers
        assertNotEquals(0, driver.setUp(FEATURES) & Virtio.STATUS_DRIVER_OK);
        mount();
        expect(RWALK, rpc(NinepMessages.walk(tag(), 1, 2, "hello"), 4096));
        expect(RLOPEN, rpc(NinepMessages.lopen(tag(), 2, 2), 4096));
        byte[] data = new byte[15 * 4096];   // within the mount's msize of 64 KiB, with the header
        new java.util.Random(11).nextBytes(data);
        List<Buf> bufs = new java.util.ArrayList<>();
        byte[] header = NinepMessages.writeHeader(tag(), 2, 5, data.length);
        memory.write(OUT, header);
        bufs.add(Buf.out(OUT, header.length));
        for (int page = 0; page < 15; page++) {
            long at = 0x80000 + 0x2000L * page;   // pages apart, as a user buffer's are
            memory.write(at, data, page * 4096, 4096);
            bufs.add(Buf.out(at, 4096));
        }
        bufs.add(Buf.in(IN, 64));
        byte[] reply = memory.read(IN, offer(bufs));
        expect(RWRITE, reply);
        assertEquals(data.length, NinepMessages.u32(reply, 7));
        byte[] file = Files.readAllBytes(dir.resolve("hello"));
        assertArrayEquals(data, Arrays.copyOfRange(file, 5, 5 + data.length));

        // the header says 60 KiB, the chain holds 32 KiB of it
        byte[] lying = NinepMessages.writeHeader(tag(), 2, 0, data.length);
        memory.write(OUT, lying);
        reply = memory.read(IN, offer(List.of(Buf.out(OUT, lying.length), Buf.out(0x80000, 0x8000), Buf.in(IN, 64))));
        expect(RLERROR, reply);
        assertEquals(71, NinepMessages.u32(reply, 7), "EPROTO");

        // a size field that is not the header plus the count
        byte[] odd = NinepMessages.writeHeader(tag(), 2, 0, 0x2000);
        odd[0] += 1;
        memory.write(OUT, odd);
        reply = memory.read(IN, offer(List.of(Buf.out(OUT, odd.length), Buf.out(0x80000, 0x3000), Buf.in(IN, 64))));
        expect(RLERROR, reply);
        assertEquals(71, NinepMessages.u32(reply, 7), "EPROTO");
        assertArrayEquals(file, Files.readAllBytes(dir.resolve("hello")), "nothing written by the refused ones");
    }

    /** A read of the largest msize in an indirect table of 130 descriptors: header, 11-byte reply header, 128 pages. */
    @Test
    void aWholeMsizeReadInAnIndirectChainLongerThan128() throws IOException {
        byte[] big = new byte[600_000];
        new java.util.Random(5).nextBytes(big);
        Files.write(dir.resolve("big"), big);
        driver = new MockDriver(memory, transport, VirtioNinep.QUEUE_SIZE, 0x1000);
        assertNotEquals(0, driver.setUp(FEATURES) & Virtio.STATUS_DRIVER_OK);
        expect(RVERSION, rpc(NinepMessages.version(tag(), 1 << 30), 4096));
        expect(RATTACH, rpc(NinepMessages.attach(tag(), 1), 4096));
        expect(RWALK, rpc(NinepMessages.walk(tag(), 1, 2, "big"), 4096));
        expect(RLOPEN, rpc(NinepMessages.lopen(tag(), 2, 0), 4096));
        byte[] request = NinepMessages.read(tag(), 2, 0, 1 << 20);
        memory.write(OUT, request);
        List<Buf> bufs = new java.util.ArrayList<>(List.of(Buf.out(OUT, request.length), Buf.in(IN, 11)));
        for (int page = 0; page < 128; page++) {
            bufs.add(Buf.in(IN + 0x1000 + 0x1000L * page, 0x1000));
        }
        driver.offer(driver.indirectChain(0x8000, bufs));
        driver.notifyQueue();
        List<int[]> used = driver.takeUsed();
        assertEquals(1, used.size(), "answered: " + transport.failure());
        int msize = 512 * 1024;
        assertEquals(msize, used.getFirst()[1]);
        assertEquals(msize - 11, NinepMessages.u32(memory.read(IN, 11), 7));
        assertArrayEquals(Arrays.copyOf(big, msize - 11), memory.read(IN + 0x1000, msize - 11));
    }

    @Test
    void aChainTooShortForATagNeedsAResetAndAResetClunksEverything() {
        mount();
        expect(RWALK, rpc(NinepMessages.walk(tag(), 1, 2, "hello"), 4096));
        memory.write(OUT, new byte[] {1, 2, 3});
        driver.offer(driver.chain(List.of(Buf.out(OUT, 3), Buf.in(IN, 64))));
        driver.notifyQueue();
        assertTrue(driver.takeUsed().isEmpty());
        assertNotEquals(0, driver.reg(VirtioMmioTransport.REG_STATUS) & Virtio.STATUS_DEVICE_NEEDS_RESET);
        assertNotNull(transport.failure());
        driver = new MockDriver(memory, transport, 16, 0x1000);
        assertNotEquals(0, driver.setUp(FEATURES) & Virtio.STATUS_DRIVER_OK);
        expect(RVERSION, rpc(NinepMessages.version(tag(), 65536), 4096));
        byte[] reply = rpc(NinepMessages.lopen(tag(), 2, 0), 4096);
        expect(RLERROR, reply);
        assertEquals(9, NinepMessages.u32(reply, 7), "EBADF: the fid went with the reset");
    }

    @Test
    void noRoomForAnyReplyNeedsAReset() {
        rpcExpectingReset(NinepMessages.version(tag(), 65536), 5);
    }

    @Test
    void aReplyLargerThanItsBuffersIsAnError() {
        mount();
        byte[] reply = rpc(NinepMessages.walk(tag(), 1, 2, "hello"), 12);
        expect(RLERROR, reply);
        assertEquals(90, NinepMessages.u32(reply, 7), "EMSGSIZE");
    }

    void rpcExpectingReset(byte[] request, int room) {
        memory.write(OUT, request);
        driver.offer(driver.chain(List.of(Buf.out(OUT, request.length), Buf.in(IN, room))));
        driver.notifyQueue();
        assertTrue(driver.takeUsed().isEmpty());
        assertNotEquals(0, driver.reg(VirtioMmioTransport.REG_STATUS) & Virtio.STATUS_DEVICE_NEEDS_RESET);
    }
}
