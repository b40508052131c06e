package hg.boot;

import hg.kvm.GuestMemory;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/** Reads boot structures back out of guest memory the way the guest kernel (or the CPU) does. */
final class GuestChecks {
    private GuestChecks() {
    }

    /** Translates a virtual address through 4-level paging from {@code cr3}; -1 if not mapped. */
    static long walk(GuestMemory m, long cr3, long va) {
        long pml4e = m.readU64((cr3 & ~0xfffL) + ((va >>> 39) & 0x1ff) * 8);
        if ((pml4e & 1) == 0) {
            return -1;
        }
        long pdpte = m.readU64((pml4e & 0xffffffffff000L) + ((va >>> 30) & 0x1ff) * 8);
        if ((pdpte & 1) == 0) {
            return -1;
        }
        if ((pdpte & 0x80) != 0) {
            return (pdpte & 0xfffffc0000000L) | (va & 0x3fffffff);
        }
        long pde = m.readU64((pdpte & 0xffffffffff000L) + ((va >>> 21) & 0x1ff) * 8);
        if ((pde & 1) == 0) {
            return -1;
        }
        if ((pde & 0x80) != 0) {
            return (pde & 0xfffffffe00000L) | (va & 0x1fffff);
        }
        long pte = m.readU64((pde & 0xffffffffff000L) + ((va >>> 12) & 0x1ff) * 8);
        return (pte & 1) == 0 ? -1 : (pte & 0xffffffffff000L) | (va & 0xfff);
    }

    /** Verifies the E820 map: sorted, non-overlapping, covering exactly {@code ranges}; low memory split as the PC does. */
    static void assertE820Covers(List<E820Entry> e820, List<GuestMemory.Range> ranges) {
        for (int i = 1; i < e820.size(); i++) {
            assertTrue(e820.get(i).address() >= e820.get(i - 1).end(), "sorted, non-overlapping: " + e820);
        }
        for (E820Entry e : e820) {
            assertTrue(e.size() > 0, "empty entry " + e);
            assertTrue(e.type() == E820Entry.RAM || e.type() == E820Entry.RESERVED);
            assertFalse(e.address() < X86Layout.MMIO_HOLE_END && e.end() > X86Layout.MMIO_HOLE_START, "entry in the MMIO hole " + e);
        }
        // Merge adjacent entries: the result must be the ranges themselves.
        List<long[]> merged = new ArrayList<>();
        for (E820Entry e : e820) {
            if (!merged.isEmpty() && merged.getLast()[1] == e.address()) {
                merged.getLast()[1] = e.end();
            } else {
                merged.add(new long[]{e.address(), e.end()});
            }
        }
        assertEquals(ranges.size(), merged.size(), "e820 " + e820 + " vs " + ranges);
        for (int i = 0; i < ranges.size(); i++) {
            assertEquals(ranges.get(i).guestAddress(), merged.get(i)[0]);
            assertEquals(ranges.get(i).guestAddress() + ranges.get(i).size(), merged.get(i)[1]);
        }
        assertEquals(new E820Entry(0, 0x9fc00, E820Entry.RAM), e820.getFirst());
        assertEquals(new E820Entry(0x9fc00, 0x100000 - 0x9fc00, E820Entry.RESERVED), e820.get(1));
        assertEquals(0x100000, e820.get(2).address());
        assertEquals(E820Entry.RAM, e820.get(2).type());
    }

    static int sum(GuestMemory m, long at, int len) {
        int s = 0;
        for (byte b : m.read(at, len)) {
            s += b;
        }
        return s & 0xff;
    }

    /**
     * Finds and checks the MP table as Linux's mpparse does: floating pointer on a 16-byte boundary in
     * the EBDA's first KiB, both checksums, one enabled processor entry per vCPU with distinct APIC ids
     * and one bootstrap processor, an ISA bus, an IOAPIC with an id no CPU uses, its interrupt sources.
     */
    static void assertMpTable(GuestMemory m, int vcpus) {
        long mpf = -1;
        for (long a = 0x9fc00; a < 0xa0000; a += 16) {
            if (m.readU32(a) == 0x5f504d5f) { // "_MP_"
                mpf = a;
                break;
            }
        }
        assertNotEquals(-1, mpf, "no MP floating pointer in the EBDA");
        assertEquals(0, sum(m, mpf, 16), "floating pointer checksum");
        assertEquals(1, m.readU8(mpf + 8));
        assertEquals(4, m.readU8(mpf + 9));
        assertEquals(0, m.readU8(mpf + 11), "feature byte 1: a config table follows");
        long table = Integer.toUnsignedLong(m.readU32(mpf + 4));
        assertEquals(0x504d4350, m.readU32(table)); // "PCMP"
        int length = m.readU16(table + 4);
        assertEquals(0, sum(m, table, length), "configuration table checksum");
        assertEquals(4, m.readU8(table + 6));
        assertEquals(0xfee00000, m.readU32(table + 36));
        int count = m.readU16(table + 34);
        long p = table + 44;
        Set<Integer> apicIds = new HashSet<>();
        int bsp = 0, buses = 0, ioapics = 0, ints = 0, lints = 0, ioapicId = -1;
        for (int i = 0; i < count; i++) {
            int type = m.readU8(p);
            switch (type) {
                case 0 -> {
                    int flags = m.readU8(p + 3);
                    assertEquals(1, flags & 1, "processor enabled");
                    bsp += (flags & 2) != 0 ? 1 : 0;
                    assertTrue(apicIds.add(m.readU8(p + 1)), "duplicate APIC id");
                    p += 20;
                }
                case 1 -> {
                    assertArrayEquals("ISA   ".getBytes(), m.read(p + 2, 6));
                    buses++;
                    p += 8;
                }
                case 2 -> {
                    ioapicId = m.readU8(p + 1);
                    assertEquals(1, m.readU8(p + 3) & 1);
                    assertEquals(0xfec00000, m.readU32(p + 4));
                    ioapics++;
                    p += 8;
                }
                case 3 -> {
                    ints++;
                    p += 8;
                }
                case 4 -> {
                    lints++;
                    p += 8;
                }
                default -> fail("unknown MP entry type " + type);
            }
        }
        assertEquals(table + length, p, "entries fill the table exactly");
        assertEquals(vcpus, apicIds.size());
        for (int id = 0; id < vcpus; id++) {
            assertTrue(apicIds.contains(id));
        }
        assertEquals(1, bsp);
        assertEquals(1, buses);
        assertEquals(1, ioapics);
        assertFalse(apicIds.contains(ioapicId));
        assertEquals(24, ints);
        assertEquals(2, lints);
    }
}
