package hg.vmm.internal.virtio.net;

import hg.vmm.internal.virtio.MockDriver;
import hg.vmm.internal.virtio.rng.VirtioRng;
import hg.vmm.internal.virtio.VirtioMmioTransport;
import hg.vmm.internal.virtio.VirtioDevice;
import hg.vmm.internal.virtio.Virtio;
import hg.kvm.GuestMemory;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

import java.io.ByteArrayInputStream;
import java.nio.channels.Channels;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static hg.vmm.internal.virtio.MockDriver.Buf;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * virtio-net's receive accounting under random frame and buffer sizes, and virtio-net and
 * virtio-rng under hostile descriptor tables.
 */
class NetQueuePropertiesTest {

    static final long MRG = Virtio.bit(Virtio.F_VERSION_1) | Virtio.bit(VirtioNet.F_MRG_RXBUF);
    static final long PLAIN = Virtio.bit(Virtio.F_VERSION_1);
    static final int QUEUE = 256;
    static final long DATA = 0x100000;

    /**
     * Frames of random sizes meet receive buffers of random sizes offered a few at a time.
     * With mergeable buffers every frame arrives whole and in order, spread over exactly
     * {@code num_buffers} used entries whose lengths add up to the frame; without, each
     * delivered frame fills one chain and the others are counted as dropped. No head is
     * used twice, none that was not offered.
     */
    @Property(tries = 200)
    void receiveBuffersAccountForEveryFrame(
            @ForAll @Size(min = 1, max = 12) List<@IntRange(min = 14, max = 9000) Integer> frameSizes,
            @ForAll @IntRange(min = 64, max = 4096) int smallest,
            @ForAll @IntRange(min = 1, max = 12) int perRound,
            @ForAll boolean mergeable,
            @ForAll long seed) {
        Random random = new Random(seed);
        try (GuestMemory memory = GuestMemory.allocate(List.of(new GuestMemory.Range(0, 0x400000)))) {
            FakeNetBackend backend = new FakeNetBackend(true);
            VirtioMmioTransport transport = new VirtioMmioTransport("net", new VirtioNet(backend, new byte[6]), memory, () -> { });
            NetDriver driver = new NetDriver(memory, transport, QUEUE, 0x1000, 0x8000);
            driver.setUp(mergeable ? MRG : PLAIN);
            List<byte[]> frames = new ArrayList<>();
            for (int i = 0; i < frameSizes.size(); i++) {
                byte[] f = new byte[VirtioNet.HEADER_SIZE + frameSizes.get(i)];
                random.nextBytes(f);
                f[10] = f[11] = 0;
                frames.add(f);
                backend.inbound.add(f);
            }
            Map<Integer, long[]> offered = new HashMap<>();   // head -> {address, length}
            Set<Integer> usedHeads = new HashSet<>();
            List<int[]> used = new ArrayList<>();
            long next = DATA;
            int chains = 0;
            while (chains + perRound <= QUEUE && next < 0x3f0000 && driver.transport.failure() == null
                    && (net(transport).stats().rxFrames() + net(transport).stats().rxDropped() < frames.size())) {
                for (int i = 0; i < perRound; i++) {
                    int len = smallest + random.nextInt(4097 - smallest);
                    int head = driver.rx.chain(List.of(Buf.in(next, len)));
                    offered.put(head, new long[] {next, len});
                    next += len;
                    chains++;
                    driver.rx.offer(head);
                }
                driver.notifyRx();
                used.addAll(driver.rx.takeUsed());
            }
            assertEquals(null, transport.failure());
            VirtioNet.Stats stats = net(transport).stats();
            int expectedIndex = 0;
            int u = 0;
            while (u < used.size()) {
                int[] first = used.get(u);
                assertTrue(offered.containsKey(first[0]), "used head " + first[0] + " was offered");
                long[] buf = offered.get(first[0]);
                byte[] header = memory.read(buf[0], VirtioNet.HEADER_SIZE);
                int n = (header[10] & 0xff) | (header[11] & 0xff) << 8;
                assertTrue(n >= 1 && u + n <= used.size(), "num_buffers " + n);
                if (!mergeable) {
                    assertEquals(1, n);
                }
                java.io.ByteArrayOutputStream got = new java.io.ByteArrayOutputStream();
                for (int k = 0; k < n; k++) {
                    int[] e = used.get(u + k);
                    assertTrue(usedHeads.add(e[0]), "head " + e[0] + " used twice");
                    long[] b = offered.get(e[0]);
                    assertTrue(e[1] <= b[1], "used length within the buffer");
                    got.write(memory.read(b[0], e[1]), 0, e[1]);
                }
                byte[] frame = got.toByteArray();
                frame[10] = frame[11] = 0;
                // Without mergeable buffers, frames that fit no chain were skipped.
                while (!mergeable && expectedIndex < frames.size() && !Arrays.equals(frames.get(expectedIndex), frame)) {
                    expectedIndex++;
                }
                assertTrue(expectedIndex < frames.size());
                assertArrayEquals(frames.get(expectedIndex), frame);
                expectedIndex++;
                u += n;
            }
            long delivered = stats.rxFrames();
            if (mergeable) {
                assertEquals(0, stats.rxDropped());
                assertTrue(delivered == frames.size() || chains + perRound > QUEUE,
                        "every frame arrives while buffers are offered: " + delivered + " of " + frames.size());
            } else {
                assertTrue(delivered + stats.rxDropped() <= frames.size());
            }
            transport.close();
        }
    }

    private static VirtioNet net(VirtioMmioTransport t) {
        return (VirtioNet) t.device();
    }

    static final long MEM = 0x20000;
    static final int SIZE = 8;

    record Desc(long address, int length, int flags, int next) {
    }

    @Provide
    Arbitrary<List<Desc>> tables() {
        Arbitrary<Long> address = Arbitraries.oneOf(
                Arbitraries.longs().between(0, MEM + 0x100),
                Arbitraries.longs().between(0x8000, 0x9000),
                Arbitraries.of(-1L, Long.MAX_VALUE, 0xffff_ffff_ffff_fff0L, MEM - 1, 0x1_0000_0000L));
        Arbitrary<Integer> length = Arbitraries.oneOf(
                Arbitraries.integers().between(0, 0x2000),
                Arbitraries.of(0, 1, 11, 12, 16, 48, 1526, -1, Integer.MIN_VALUE, 0x7fff_ffff, 0x20001));
        Arbitrary<Integer> flags = Arbitraries.integers().between(0, 7).injectDuplicates(0.3);
        Arbitrary<Integer> next = Arbitraries.oneOf(Arbitraries.integers().between(0, SIZE), Arbitraries.integers().between(0, 0xffff));
        return Combinators.combine(address, length, flags, next).as(Desc::new).list().ofMaxSize(SIZE);
    }

    @Provide
    Arbitrary<List<Integer>> heads() {
        return Arbitraries.oneOf(Arbitraries.integers().between(0, SIZE - 1), Arbitraries.integers().between(0, 0xffff))
                .list().ofMaxSize(SIZE);
    }

    @Provide
    Arbitrary<Integer> indexJumps() {
        return Arbitraries.oneOf(Arbitraries.integers().between(0, SIZE + 1), Arbitraries.integers().between(0, 0xffff));
    }

    /**
     * Hostile receive and transmit tables (and an rng queue): nothing is thrown out of the
     * transport, the device writes only into buffers offered as writable or the used rings,
     * and it either works or is marked broken with a reason.
     */
    @Property(tries = 300)
    void hostileTablesNeverEscapeNetOrRng(
            @ForAll("tables") List<Desc> rxTable, @ForAll("tables") List<Desc> txTable,
            @ForAll("tables") List<Desc> indirect,
            @ForAll("heads") List<Integer> rxHeads, @ForAll("heads") List<Integer> txHeads,
            @ForAll("indexJumps") int rxIdx, @ForAll("indexJumps") int txIdx,
            @ForAll @IntRange(min = 0, max = 3) int frames, @ForAll boolean mergeable, @ForAll boolean rng) {
        try (GuestMemory memory = GuestMemory.allocate(List.of(new GuestMemory.Range(0, MEM)))) {
            FakeNetBackend backend = new FakeNetBackend(true);
            for (int i = 0; i < frames; i++) {
                backend.inbound.add(new byte[60 + 700 * i]);
            }
            VirtioDevice device = rng ? new VirtioRng(Channels.newChannel(new ByteArrayInputStream(new byte[0x10000])))
                    : new VirtioNet(backend, new byte[6]);
            VirtioMmioTransport transport = new VirtioMmioTransport("hostile", device, memory, () -> { });
            try {
                NetDriver driver = new NetDriver(memory, transport, SIZE, 0x1000, 0x2000);
                long features = (mergeable ? MRG : PLAIN) | Virtio.bit(Virtio.F_INDIRECT_DESC) | Virtio.bit(Virtio.F_EVENT_IDX);
                if (rng) {
                    driver.rx.setUp(Virtio.bit(Virtio.F_VERSION_1) | Virtio.bit(Virtio.F_EVENT_IDX));
                } else {
                    driver.setUp(features);
                }
                write(memory, driver.rx, rxTable, rxHeads, rxIdx);
                write(memory, driver.tx, txTable, txHeads, txIdx);
                for (int i = 0; i < indirect.size(); i++) {
                    Desc d = indirect.get(i);
                    driver.rx.writeDesc(0x8000, i, d.address(), d.length(), d.flags(), d.next());
                }
                byte[] before = memory.read(0, (int) MEM);
                driver.notifyRx();
                driver.notifyTx();
                driver.notifyRx();

                List<long[]> allowed = new ArrayList<>();
                allowed.add(new long[] {driver.rx.used, 6 + 8L * SIZE});
                allowed.add(new long[] {driver.tx.used, 6 + 8L * SIZE});
                for (List<Desc> t : List.of(rxTable, txTable, indirect)) {
                    for (Desc d : t) {
                        if ((d.flags() & Virtio.DESC_F_WRITE) != 0) {
                            allowed.add(new long[] {d.address(), Integer.toUnsignedLong(d.length())});
                        }
                    }
                }
                byte[] after = memory.read(0, (int) MEM);
                for (int i = 0; i < before.length; i++) {
                    if (before[i] != after[i]) {
                        long a = i;
                        assertTrue(allowed.stream().anyMatch(r -> a >= r[0] && a - r[0] < r[1]),
                                String.format("device wrote 0x%x, which no writable buffer covers", a));
                    }
                }
                assertEquals(driver.broken(), transport.failure() != null);
                driver.rx.reg(VirtioMmioTransport.REG_STATUS, 0);
                assertEquals(0, driver.status());
                assertFalse(driver.broken());
            } finally {
                transport.close();
            }
        }
    }

    private static void write(GuestMemory memory, MockDriver q, List<Desc> table, List<Integer> heads, int idx) {
        for (int i = 0; i < table.size(); i++) {
            Desc d = table.get(i);
            q.writeDesc(q.desc, i, d.address(), d.length(), d.flags(), d.next());
        }
        for (int i = 0; i < heads.size(); i++) {
            memory.writeU16(q.avail + 4 + 2L * i, heads.get(i));
        }
        memory.writeU16(q.avail + 2, idx);
    }

}
