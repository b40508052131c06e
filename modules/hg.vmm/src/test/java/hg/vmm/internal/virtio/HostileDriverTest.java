package hg.vmm.internal.virtio;

import hg.vmm.internal.virtio.block.VirtioBlock;
import hg.vmm.internal.virtio.block.DiskImage;
import hg.vmm.internal.virtio.console.VirtioConsole;
import hg.vmm.internal.bus.CountingTrigger;
import hg.kvm.GuestMemory;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Drivers that lie: random descriptor tables, ring indices, ring addresses and register
 * writes. Whatever they do, nothing is thrown out of a device and the device writes only
 * where the driver offered writable buffers or the used ring.
 */
class HostileDriverTest {

    static final long MEM = 0x20000;          // guest memory: [0, 128 KiB) plus a second region
    static final long HIGH = 0x100000;        // [1 MiB, 1 MiB + 64 KiB)
    static final int SIZE = 8;
    static final long RINGS = 0x1000;
    static final long FEATURES = Virtio.bit(Virtio.F_VERSION_1) | Virtio.bit(Virtio.F_INDIRECT_DESC)
            | Virtio.bit(Virtio.F_EVENT_IDX);

    static Path image;

    @BeforeContainer
    static void makeImage() throws IOException {
        image = Files.createTempFile("hostile", ".img");
        Files.write(image, new byte[64 * 512]);
    }

    @AfterContainer
    static void dropImage() throws IOException {
        Files.deleteIfExists(image);
    }

    /** One raw descriptor as a hostile driver might write it. */
    record Desc(long address, int length, int flags, int next) {
    }

    @Provide
    Arbitrary<Desc> descriptors() {
        Arbitrary<Long> address = Arbitraries.oneOf(
                Arbitraries.longs().between(0, MEM + 0x100),
                Arbitraries.longs().between(HIGH - 0x100, HIGH + 0x10100),
                Arbitraries.longs().between(0x8000, 0x9000),                  // where indirect tables live
                Arbitraries.of(-1L, Long.MAX_VALUE, 0xffff_ffff_ffff_fff0L, MEM - 1, 0x1_0000_0000L));
        Arbitrary<Integer> length = Arbitraries.oneOf(
                Arbitraries.integers().between(0, 0x1000),
                Arbitraries.of(0, 1, 16, 48, 512, -1, Integer.MIN_VALUE, 0x7fff_ffff, 0x20001));
        Arbitrary<Integer> flags = Arbitraries.integers().between(0, 7).injectDuplicates(0.3);
        Arbitrary<Integer> next = Arbitraries.oneOf(Arbitraries.integers().between(0, SIZE), Arbitraries.integers().between(0, 0xffff));
        return Combinators.combine(address, length, flags, next).as(Desc::new);
    }

    @Property(tries = 300)
    void hostileTablesNeverEscapeTheDevice(
            @ForAll("tables") List<Desc> table,
            @ForAll("tables") List<Desc> indirectTable,
            @ForAll("heads") List<Integer> heads,
            @ForAll("indexJumps") int availIdx,
            @ForAll("devices") String kind,
            @ForAll boolean eventIdx) throws IOException {
        try (GuestMemory memory = GuestMemory.allocate(List.of(new GuestMemory.Range(0, MEM),
                new GuestMemory.Range(HIGH, 0x10000)))) {
            VirtioConsole console = new VirtioConsole(bytes -> { });
            VirtioDevice device = switch (kind) {
                case "block" -> new VirtioBlock(DiskImage.open(image, false), "hostile");
                case "console" -> console;
                default -> new RecordingDevice(FEATURES, SIZE);
            };
            CountingTrigger irq = new CountingTrigger();
            VirtioMmioTransport transport = new VirtioMmioTransport("hostile", device, memory, irq);
            try {
                MockDriver driver = new MockDriver(memory, transport, SIZE, RINGS);
                long features = eventIdx ? FEATURES : FEATURES & ~Virtio.bit(Virtio.F_EVENT_IDX);
                driver.setUp(kind.equals("console") ? Virtio.bit(Virtio.F_VERSION_1) : features);
                if (device == console) {
                    // The console's queue 0 takes typed input: some waits, to go into whatever the guest offers.
                    console.onInput(() -> transport.processQueue(VirtioConsole.RX));
                    byte[] typed = new byte[3000];
                    java.util.Arrays.fill(typed, (byte) 0x5a);   // not zeros: a stray write must show
                    console.enqueueInput(typed);
                }
                for (int i = 0; i < table.size(); i++) {
                    Desc d = table.get(i);
                    driver.writeDesc(driver.desc, i, d.address(), d.length(), d.flags(), d.next());
                }
                for (int i = 0; i < indirectTable.size(); i++) {
                    Desc d = indirectTable.get(i);
                    driver.writeDesc(0x8000, i, d.address(), d.length(), d.flags(), d.next());
                }
                for (int i = 0; i < heads.size(); i++) {
                    memory.writeU16(driver.avail + 4 + 2L * i, heads.get(i));
                }
                byte[] before = memory.read(0, (int) MEM);
                byte[] beforeHigh = memory.read(HIGH, 0x10000);

                // Every byte that changed lies in the used ring or in a buffer that a descriptor offered
                // as writable when the device could take it. A writable buffer over a descriptor table
                // lets the device's own writes name the buffers of the chains after it, so the chains
                // are offered one notification each and what the tables offer is read before each.
                List<long[]> allowed = new java.util.ArrayList<>();
                allowed.add(new long[] {driver.used, 6 + 8L * SIZE});
                allowed.add(new long[] {driver.avail + 2, 2});   // the available index: the driver's own steps
                int offered = availIdx & 0xffff;
                int from = offered <= SIZE ? 1 : offered;   // a jump past the queue is refused whole: one step
                for (int idx = from; idx <= offered; idx++) {
                    allowed.addAll(writableNow(memory, driver.desc));
                    memory.writeU16(driver.avail + 2, idx);
                    driver.notifyQueue();
                }
                allowed.addAll(writableNow(memory, driver.desc));
                memory.writeU16(driver.avail + 2, availIdx);
                driver.notifyQueue();
                driver.notifyQueue();

                checkOnlyAllowedChanged(before, memory.read(0, (int) MEM), 0, allowed);
                checkOnlyAllowedChanged(beforeHigh, memory.read(HIGH, 0x10000), HIGH, allowed);

                // Either it worked, or the device is marked broken with a reason.
                int status = driver.reg(VirtioMmioTransport.REG_STATUS);
                boolean broken = (status & Virtio.STATUS_DEVICE_NEEDS_RESET) != 0;
                assertEquals(broken, transport.failure() != null);
                // A reset always brings it back.
                driver.reg(VirtioMmioTransport.REG_STATUS, 0);
                assertEquals(0, driver.reg(VirtioMmioTransport.REG_STATUS));
            } finally {
                transport.close();
            }
        }
    }

    /**
     * The buffers the descriptor table at {@code desc} offers as writable as memory stands now: its
     * own entries and those of each indirect table it names, as far as a chain could reach.
     */
    private static List<long[]> writableNow(GuestMemory memory, long desc) {
        List<long[]> spans = new java.util.ArrayList<>();
        for (int i = 0; i < SIZE; i++) {
            long d = desc + 16L * i;
            long address = memory.readU64(d);
            long length = Integer.toUnsignedLong(memory.readU32(d + 8));
            int flags = memory.readU16(d + 12);
            if ((flags & Virtio.DESC_F_WRITE) != 0) {
                spans.add(new long[] {address, length});
            }
            if ((flags & Virtio.DESC_F_INDIRECT) != 0 && length % 16 == 0 && length / 16 <= SIZE
                    && memory.contains(address, length)) {
                for (long e = address; e < address + length; e += 16) {
                    if ((memory.readU16(e + 12) & Virtio.DESC_F_WRITE) != 0) {
                        spans.add(new long[] {memory.readU64(e), Integer.toUnsignedLong(memory.readU32(e + 8))});
                    }
                }
            }
        }
        return spans;
    }

    private static void checkOnlyAllowedChanged(byte[] before, byte[] after, long base, List<long[]> allowed) {
        for (int i = 0; i < before.length; i++) {
            if (before[i] != after[i]) {
                long a = base + i;
                boolean ok = allowed.stream().anyMatch(r -> a >= r[0] && a - r[0] < r[1]);
                assertTrue(ok, String.format("device wrote 0x%x, which no writable buffer covers", a));
            }
        }
    }

    @Provide
    Arbitrary<List<Desc>> tables() {
        return descriptors().list().ofMinSize(0).ofMaxSize(SIZE);
    }

    @Provide
    Arbitrary<List<Integer>> heads() {
        return Arbitraries.oneOf(Arbitraries.integers().between(0, SIZE - 1), Arbitraries.integers().between(0, 0xffff))
                .list().ofMaxSize(SIZE);
    }

    @Provide
    Arbitrary<String> devices() {
        return Arbitraries.of("block", "console", "recording");
    }

    @Provide
    Arbitrary<Integer> indexJumps() {
        return Arbitraries.oneOf(Arbitraries.integers().between(0, SIZE + 1), Arbitraries.integers().between(0, 0xffff));
    }

    /** Random register writes in any order, then queue notifications: no exception, ever. */
    @Property(tries = 300)
    void randomRegisterWritesNeverThrow(@ForAll("registerWrites") List<int[]> writes) {
        try (GuestMemory memory = GuestMemory.allocate(List.of(new GuestMemory.Range(0, MEM)))) {
            RecordingDevice device = new RecordingDevice(FEATURES, SIZE);
            VirtioMmioTransport transport = new VirtioMmioTransport("random", device, memory, () -> { });
            for (int[] w : writes) {
                int width = w[2];
                byte[] data = new byte[width];
                for (int i = 0; i < width; i++) {
                    data[i] = (byte) (w[1] >>> (8 * (i % 4)));
                }
                transport.write(w[0], data);
                transport.read(w[0], new byte[width]);
                transport.processQueue(w[1] & 3);
            }
        }
    }

    @Provide
    Arbitrary<List<int[]>> registerWrites() {
        Arbitrary<Integer> offset = Arbitraries.oneOf(
                Arbitraries.of(0x14, 0x20, 0x24, 0x30, 0x38, 0x44, 0x50, 0x64, 0x70, 0x80, 0x84, 0x90, 0x94, 0xa0, 0xa4),
                Arbitraries.integers().between(0, 0x1000));
        Arbitrary<Integer> value = Arbitraries.oneOf(
                Arbitraries.of(0, 1, 2, 3, 4, 8, 0xf, 0x1000, 0x1080, 0x10c0, -1),
                Arbitraries.integers());
        Arbitrary<Integer> width = Arbitraries.of(1, 2, 4, 4, 4, 8);
        return Combinators.combine(offset, value, width).as((o, v, w) -> new int[] {o, v, w}).list().ofMaxSize(40);
    }
}
