package hg.vmm.internal.virtio.ninep;

import hg.kvm.GuestMemory;
import hg.ninep.Share;
import hg.vmm.internal.virtio.MockDriver;
import hg.vmm.internal.virtio.Virtio;
import hg.vmm.internal.virtio.VirtioMmioTransport;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static hg.vmm.internal.virtio.MockDriver.Buf;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Garbage chains: random bytes in random readable buffers, random writable room. The device
 * answers (a reply within the room, with the request's tag) or needs a reset; nothing is thrown
 * and nothing is written outside the writable buffers.
 */
class VirtioNinepHostileTest {
    static final long FEATURES = Virtio.bit(Virtio.F_VERSION_1) | Virtio.bit(VirtioNinep.F_MOUNT_TAG);
    static final long OUT = 0x10000, IN = 0x40000, GUARD = 0x80000;

    static Path dir;

    @BeforeContainer
    static void makeDir() throws IOException {
        dir = Files.createTempDirectory("ninep-hostile");
        Files.writeString(dir.resolve("f"), "x");
    }

    @AfterContainer
    static void dropDir() throws IOException {
        try (var s = Files.walk(dir)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    /** A valid Tflush (tag 0, oldtag 0) with room for just its 7-byte Rflush: answered, not broken. */
    @Example
    void aTflushGetsItsSevenByteRflushInSevenBytesOfRoom() throws IOException {
        garbageIsAnsweredOrBreaksTheDeviceNotTheVmm(new byte[9], true, 108, List.of(0), List.of(7), true);
    }

    @Property(tries = 300)
    void garbageIsAnsweredOrBreaksTheDeviceNotTheVmm(
            @ForAll @Size(max = 120) byte[] raw, @ForAll boolean fixSize, @ForAll @IntRange(max = 255) int type,
            @ForAll @Size(min = 1, max = 4) List<@IntRange(min = 0, max = 200) Integer> readableSplits,
            @ForAll @Size(max = 3) List<@IntRange(min = 0, max = 300) Integer> writable,
            @ForAll boolean mounted) throws IOException {
        try (GuestMemory memory = GuestMemory.allocate(List.of(new GuestMemory.Range(0, 0x100000)));
             VirtioMmioTransport transport = new VirtioMmioTransport("9p",
                     new VirtioNinep(new Share(dir, "h", false)), memory, () -> { })) {
            MockDriver driver = new MockDriver(memory, transport, 16, 0x1000);
            driver.setUp(FEATURES);
            if (mounted) {
                memory.write(OUT, NinepMessages.version(1, 65536));
                driver.offer(driver.chain(List.of(Buf.out(OUT, NinepMessages.version(1, 65536).length), Buf.in(IN, 100))));
                driver.notifyQueue();
                driver.takeUsed();
            }
            ByteBuffer b = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
            if (fixSize && raw.length >= 7) {
                b.putInt(0, raw.length).put(4, (byte) type);
            }
            memory.fill(GUARD, 0x1000, (byte) 0x5a);
            List<Buf> bufs = new ArrayList<>();
            int at = 0;
            long addr = OUT;
            for (int split : readableSplits) {
                int n = Math.min(split, raw.length - at);
                memory.write(addr, raw, at, n);
                bufs.add(Buf.out(addr, n));
                at += n;
                addr += 0x400;
            }
            if (at < raw.length) {
                memory.write(addr, raw, at, raw.length - at);
                bufs.add(Buf.out(addr, raw.length - at));
            }
            int room = 0;
            addr = IN;
            for (int n : writable) {
                bufs.add(Buf.in(addr, n));
                room += n;
                addr += 0x400;
            }
            driver.offer(driver.chain(bufs));
            driver.notifyQueue();   // never throws: a failure is the transport's needs-reset
            List<int[]> used = driver.takeUsed();
            boolean broken = (driver.reg(VirtioMmioTransport.REG_STATUS) & Virtio.STATUS_DEVICE_NEEDS_RESET) != 0;
            assertTrue(broken != (used.size() == 1), "answered or broken, one of the two");
            if (!broken) {
                int n = used.getFirst()[1];
                // 7 bytes is a header alone, a whole Rflush or Rclunk; an Rlerror is 11.
                assertTrue(n <= room && n >= 7, "a reply within the room: " + n);
                byte[] first = new byte[Math.min(7, n)];
                // The reply's header lands in the first writable buffers, in order.
                int got = 0;
                addr = IN;
                for (int len : writable) {
                    int take = Math.min(len, first.length - got);
                    memory.read(addr, first, got, take);
                    got += take;
                    addr += 0x400;
                }
                assertEquals(n, ByteBuffer.wrap(first).order(ByteOrder.LITTLE_ENDIAN).getInt(0));
            } else {
                assertTrue(raw.length < 7 || room < 11, "only a tagless request or no room breaks it");
            }
            for (byte g : memory.read(GUARD, 0x1000)) {
                assertEquals((byte) 0x5a, g);
            }
        }
    }
}
