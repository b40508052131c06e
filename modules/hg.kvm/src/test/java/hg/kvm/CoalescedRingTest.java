package hg.kvm;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

class CoalescedRingTest {
    record Write(boolean pio, long address, long data, int length) {
    }

    /** Writes as KVM does: the entry, then last moved on. */
    private static void push(MemorySegment page, long address, long data, int length) {
        int last = page.get(JAVA_INT, 4);
        long at = CoalescedRing.HEADER + last * CoalescedRing.ENTRY;
        page.set(JAVA_LONG, at, address);
        page.set(JAVA_INT, at + 8, length);
        page.set(JAVA_INT, at + 12, 1);
        page.set(JAVA_LONG, at + 16, data);
        page.set(JAVA_INT, 4, (last + 1) % CoalescedRing.CAPACITY);
    }

    @Property(tries = 50)
    void replaysEveryWriteInOrderAcrossTheWrap(@ForAll @IntRange(max = 169) int start, @ForAll @IntRange(max = 169) int count) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment page = arena.allocate(4096, 4096);
            page.set(JAVA_INT, 0, start);
            page.set(JAVA_INT, 4, start);
            List<Write> expected = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                int length = 1 << (i % 4);
                long data = (0x0102030405060708L + i) & (length == 8 ? -1L : (1L << 8 * length) - 1);
                push(page, 0x3f8 + i, data, length);
                expected.add(new Write(true, 0x3f8 + i, data, length));
            }
            CoalescedRing ring = new CoalescedRing(page);
            List<Write> got = new ArrayList<>();
            assertEquals(count, ring.drain((pio, address, data, length) -> got.add(new Write(pio, address, data, length))));
            assertEquals(expected, got);
            assertEquals(page.get(JAVA_INT, 4), page.get(JAVA_INT, 0), "first caught up with last");
            assertEquals(0, ring.drain((pio, address, data, length) -> got.add(null)));
        }
    }

    @Test
    void aRingWithIndicesOutOfRangeIsLeftAlone() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment page = arena.allocate(4096, 4096);
            page.set(JAVA_INT, 0, 0);
            page.set(JAVA_INT, 4, CoalescedRing.CAPACITY + 5);
            assertEquals(0, new CoalescedRing(page).drain((pio, address, data, length) -> {
                throw new AssertionError("replayed a write from a broken ring");
            }));
        }
    }

    /** Against the real KVM: coalesced port writes do not exit, and the ring hands them over in order. */
    @Test
    void portWritesToACoalescedZoneWaitInTheRing() {
        KvmTestSupport.assumeKvm();
        try (var m = KvmTestSupport.Machine.create(0x10000)) {
            org.junit.jupiter.api.Assumptions.assumeTrue(m.kvm().coalescedPio(), "this KVM does not coalesce port writes");
            m.vm().registerCoalescedPio(0x3f8, 1);
            m.memory().write(0x1000, new byte[] {
                    (byte) 0xba, (byte) 0xf8, 0x03, // mov dx, 0x3f8
                    (byte) 0xb0, 'h',              // mov al, 'h'
                    (byte) 0xee,                   // out dx, al
                    (byte) 0xb0, 'i',              // mov al, 'i'
                    (byte) 0xee,                   // out dx, al
                    (byte) 0xe6, 0x10,             // out 0x10, al: not coalesced, exits
                    (byte) 0xf4});                 // hlt
            VcpuFd vcpu = m.realModeVcpu(0, 0x1000);
            var out = assertInstanceOf(VcpuExit.IoOut.class, vcpu.run());
            assertEquals(0x10, out.port(), "the first exit is the port outside the zone");
            StringBuilder seen = new StringBuilder();
            assertEquals(2, vcpu.coalescedRing().drain((pio, address, data, length) -> {
                assertEquals(true, pio);
                assertEquals(0x3f8, address);
                assertEquals(1, length);
                seen.append((char) data);
            }));
            assertEquals("hi", seen.toString());
        }
    }
}
