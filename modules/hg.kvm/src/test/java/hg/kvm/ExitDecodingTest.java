package hg.kvm;

import hg.kvm.internal.Layouts;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The exit views decode whatever a kvm_run page holds, and never reach outside the page, even
 * for values no sane kernel writes.
 */
class ExitDecodingTest {
    static final int PAGE = 3 * 4096;

    @Property(tries = 300)
    void ioExitsDecodeAndStayInsideThePage(@ForAll @IntRange(min = 0, max = 0xffff) int port,
                                           @ForAll @IntRange(min = 0, max = 255) int size,
                                           @ForAll int count, @ForAll @LongRange(min = -8, max = 3 * 4096 + 8) long dataOffset,
                                           @ForAll long value) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment run = arena.allocate(PAGE, 8);
            run.set(ValueLayout.JAVA_SHORT, Layouts.offset(Layouts.KVM_RUN, "io", "port"), (short) port);
            run.set(ValueLayout.JAVA_BYTE, Layouts.offset(Layouts.KVM_RUN, "io", "size"), (byte) size);
            run.set(ValueLayout.JAVA_INT, Layouts.offset(Layouts.KVM_RUN, "io", "count"), count);
            run.set(ValueLayout.JAVA_LONG, Layouts.offset(Layouts.KVM_RUN, "io", "data_offset"), dataOffset);
            VcpuExit.IoOut out = new VcpuExit.IoOut(run);
            VcpuExit.IoIn in = new VcpuExit.IoIn(run);
            assertEquals(port, out.port());
            assertEquals(size, out.size());
            assertEquals(count, out.count());
            long bytes = (long) size * Integer.toUnsignedLong(count);
            boolean fits = dataOffset >= 0 && dataOffset + bytes <= PAGE;
            if (fits) {
                assertEquals(bytes, out.data().byteSize());
            } else {
                assertThrows(IndexOutOfBoundsException.class, out::data);
            }
            boolean valueFits = dataOffset >= 0 && dataOffset + Math.max(size, 0) <= PAGE;
            // (a value written over the io fields themselves would change what is read back)
            boolean clearOfHeader = dataOffset >= 64 || dataOffset + size <= 32;
            if (valueFits && clearOfHeader && (size == 1 || size == 2 || size == 4)) {
                in.setValue(value);
                long mask = size == 4 ? 0xffffffffL : (1L << (8 * size)) - 1;
                assertEquals(value & mask, out.value());
            } else if (!valueFits && size > 0) {
                assertThrows(IndexOutOfBoundsException.class, out::value);
            }
        }
    }

    @Property(tries = 300)
    void mmioExitsDecodeAnyLengthSafely(@ForAll long address, @ForAll int len, @ForAll long value) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment run = arena.allocate(PAGE, 8);
            run.set(ValueLayout.JAVA_LONG, Layouts.offset(Layouts.KVM_RUN, "mmio", "phys_addr"), address);
            run.set(ValueLayout.JAVA_INT, Layouts.offset(Layouts.KVM_RUN, "mmio", "len"), len);
            VcpuExit.MmioRead read = new VcpuExit.MmioRead(run);
            VcpuExit.MmioWrite write = new VcpuExit.MmioWrite(run);
            assertEquals(address, read.address());
            if (len < 0) {
                assertThrows(RuntimeException.class, read::data);
                return;
            }
            int length = Math.min(8, len);
            assertEquals(length, read.length());
            assertTrue(read.data().byteSize() <= 8);
            read.setValue(value);
            long mask = length == 8 ? -1L : (1L << (8 * length)) - 1;
            assertEquals(value & mask, write.value());
        }
    }
}
