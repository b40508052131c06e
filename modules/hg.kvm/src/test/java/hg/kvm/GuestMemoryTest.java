package hg.kvm;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Guest memory never reaches outside its regions, whatever address and length come in. */
class GuestMemoryTest {
    static final List<GuestMemory.Range> RANGES = List.of(
            new GuestMemory.Range(0, 0x10000), new GuestMemory.Range(0x100000, 0x2000));

    @Property(tries = 300)
    void accessesInsideSucceedAndOutsideFail(@ForAll @LongRange(min = -16, max = 0x110000) long address,
                                             @ForAll @IntRange(min = 0, max = 64) int length) {
        try (GuestMemory mem = GuestMemory.map(RANGES)) {
            boolean inside = (address >= 0 && address + length <= 0x10000)
                    || (address >= 0x100000 && address + length <= 0x102000);
            assertEquals(inside, mem.contains(address, length));
            if (inside) {
                byte[] data = new byte[length];
                java.util.Arrays.fill(data, (byte) 0x5a);
                mem.write(address, data);
                assertEquals(java.util.Arrays.toString(data), java.util.Arrays.toString(mem.read(address, length)));
            } else {
                assertThrows(GuestMemoryException.class, () -> mem.read(address, length));
                assertThrows(GuestMemoryException.class, () -> mem.write(address, new byte[length]));
            }
        }
    }

    @Test
    void untouchedPagesOfAnonymousMemoryAreKnownZeroAndAFileMappingClaimsNone() throws Exception {
        boolean swap = java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/meminfo")).stream()
                .filter(l -> l.startsWith("SwapTotal:")).noneMatch(l -> l.replaceAll("[^0-9]", "").matches("0*"));
        try (GuestMemory m = GuestMemory.map(List.of(new GuestMemory.Range(0, 64 * 4096)))) {
            GuestMemory.Region r = m.regions().getFirst();
            m.writeU8(3 * 4096 + 17, 1);
            m.readU8(5 * 4096);   // a read maps the zero page: not known zero, still zero
            java.util.BitSet zero = m.knownZeroPages(r);
            if (swap) {
                assertEquals(0, zero.cardinality(), "with swap a page out of memory may hold data");
                return;
            }
            assertEquals(false, zero.get(3), "a written page is resident");
            assertEquals(true, zero.get(0) && zero.get(63), "untouched pages: " + zero);
            java.nio.file.Path file = java.nio.file.Files.createTempFile("hg-mem", ".img");
            try {
                java.nio.file.Files.write(file, new byte[64 * 4096]);
                m.remapPrivate(file);
                assertEquals(0, m.knownZeroPages(r).cardinality(), "a file's pages may hold data when not resident");
            } finally {
                java.nio.file.Files.deleteIfExists(file);
            }
        }
    }

    @Test
    void mappedMemoryStartsZeroedAndKeepsValues() {
        try (GuestMemory mem = GuestMemory.map(RANGES)) {
            assertEquals(0x12000, mem.size());
            assertEquals(0x102000, mem.end());
            assertEquals(0, mem.readU64(0x100000));
            mem.writeU16(0x101ffe, 0xbeef);
            assertEquals(0xbeef, mem.readU16(0x101ffe));
            assertThrows(GuestMemoryException.class, () -> mem.readU32(0x101ffe));
        }
    }

    @Test
    void overlappingRangesAreRefusedAndNothingStaysMapped() {
        assertThrows(IllegalArgumentException.class, () -> GuestMemory.map(List.of(
                new GuestMemory.Range(0, 0x2000), new GuestMemory.Range(0x1000, 0x2000))));
    }

    @Test
    void namedGuestRamShowsInTheProcessMapsWhereTheKernelNamesMappings() throws Exception {
        try (GuestMemory ram = GuestMemory.map(List.of(new GuestMemory.Range(0, 0x200000), new GuestMemory.Range(0x400000, 0x100000)))) {
            boolean named = ram.name("hg-test-ram");
            long shown = java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/maps")).stream()
                    .filter(l -> l.endsWith("[anon:hg-test-ram]")).count();
            // Both regions when the kernel has CONFIG_ANON_VMA_NAME, none (and false) when it has not.
            assertEquals(named ? 2 : 0, shown, "mappings named in /proc/self/maps (name() said " + named + ")");
        }
        try (GuestMemory ram = GuestMemory.map(List.of(new GuestMemory.Range(0, 0x1000)))) {
            for (String bad : List.of("", "a[b", "dollar$", "back`", "x".repeat(80), "tab\there")) {
                assertThrows(IllegalArgumentException.class, () -> ram.name(bad), bad);
            }
        }
    }

    @Property(tries = 300)
    void aMappingLiesAsFarIntoA2MiBPageAsTheGuestAddress(@ForAll @LongRange(min = 1, max = 1L << 35) long rawPage,
                                                          @ForAll @LongRange(min = 0, max = 1L << 28) long guestPage) {
        long raw = rawPage << 12;
        long guest = guestPage << 12;
        long address = GuestMemory.alignLike(raw, guest);
        assertEquals(true, address >= raw && address < raw + GuestMemory.HUGE_PAGE, "inside the larger mapping");
        assertEquals(0, (address - guest) % GuestMemory.HUGE_PAGE, "same offset in a 2 MiB page");
    }

    @Test
    void guestRamLinesUpWithTheGuestsHugePagesAndIsAdvisedThemAboveItsFirst2MiB() throws Exception {
        List<GuestMemory.Range> ranges = List.of(new GuestMemory.Range(0, 4L << 20), new GuestMemory.Range(0x500000, 3L << 20));
        try (GuestMemory ram = GuestMemory.map(ranges)) {
            for (GuestMemory.Region r : ram.regions()) {
                assertEquals(r.guestAddress() % GuestMemory.HUGE_PAGE, r.host().address() % GuestMemory.HUGE_PAGE,
                        "host 0x" + Long.toHexString(r.host().address()) + " for guest 0x" + Long.toHexString(r.guestAddress()));
            }
            if (java.nio.file.Files.exists(java.nio.file.Path.of("/sys/kernel/mm/transparent_hugepage/enabled"))) {
                long low = ram.regions().getFirst().host().address();
                assertEquals(false, SmapsEntry.advisedHugePages(low), "the boot tables' 2 MiB at guest 0 stay on small pages");
                assertEquals(true, SmapsEntry.advisedHugePages(low + GuestMemory.SMALL_PAGES_BELOW),
                        "VmFlags hg in /proc/self/smaps from guest 0x200000 on");
                long high = ram.regions().getLast().host().address();
                assertEquals(true, SmapsEntry.advisedHugePages(high), "all of a range above 2 MiB");
                ram.writeU64(0x1000, 1);
                ram.writeU64(0x200000, 2);
                assertEquals(1, ram.readU64(0x1000));
                assertEquals(2, ram.readU64(0x200000));
            }
        }
    }

    @Test
    void aLoadThatCoversLittleOfA2MiBPageLeavesItOnSmallPages() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(
                java.nio.file.Files.exists(java.nio.file.Path.of("/sys/kernel/mm/transparent_hugepage/enabled")), "no THP here");
        try (GuestMemory ram = GuestMemory.map(List.of(new GuestMemory.Range(0, 8L << 20)))) {
            ram.beforeLoading(List.of(new GuestMemory.Range(0x200000, 15), new GuestMemory.Range(0x400000, 0x40000)));
            long host = ram.regions().getFirst().host().address();
            assertEquals(true, SmapsEntry.of(host + 0x200000).matches("(?s).*VmFlags:[^\\n]* nh.*"),
                    "15 bytes: the page at 2 MiB is advised MADV_NOHUGEPAGE");
            assertEquals(true, SmapsEntry.advisedHugePages(host + 0x400000), "256 KiB of 2 MiB: the page at 4 MiB stays advised");
            assertEquals(true, SmapsEntry.advisedHugePages(host + 0x600000), "untouched by the load");
            ram.writeU64(0x200000, 5);
            assertEquals(5, ram.readU64(0x200000));
        }
    }
}
