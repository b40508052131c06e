package hg.kvm;

import hg.kvm.internal.Layouts;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/** Offsets into the kvm_run page and little-endian helpers for the exit views. */
final class KvmRun {
    private KvmRun() {}

    static final long IMMEDIATE_EXIT = Layouts.offset(Layouts.KVM_RUN, "immediate_exit");
    static final long EXIT_REASON = Layouts.offset(Layouts.KVM_RUN, "exit_reason");
    static final long IO_DIRECTION = Layouts.offset(Layouts.KVM_RUN, "io", "direction");
    static final long IO_SIZE = Layouts.offset(Layouts.KVM_RUN, "io", "size");
    static final long IO_PORT = Layouts.offset(Layouts.KVM_RUN, "io", "port");
    static final long IO_COUNT = Layouts.offset(Layouts.KVM_RUN, "io", "count");
    static final long IO_DATA_OFFSET = Layouts.offset(Layouts.KVM_RUN, "io", "data_offset");
    static final long MMIO_PHYS_ADDR = Layouts.offset(Layouts.KVM_RUN, "mmio", "phys_addr");
    static final long MMIO_DATA = Layouts.offset(Layouts.KVM_RUN, "mmio", "data");
    static final long MMIO_LEN = Layouts.offset(Layouts.KVM_RUN, "mmio", "len");
    static final long MMIO_IS_WRITE = Layouts.offset(Layouts.KVM_RUN, "mmio", "is_write");
    static final long HW_EXIT_REASON = Layouts.offset(Layouts.KVM_RUN, "hw", "hardware_exit_reason");
    static final long FAIL_ENTRY_REASON = Layouts.offset(Layouts.KVM_RUN, "fail_entry", "hardware_entry_failure_reason");
    static final long FAIL_ENTRY_CPU = Layouts.offset(Layouts.KVM_RUN, "fail_entry", "cpu");
    static final long INTERNAL_SUBERROR = Layouts.offset(Layouts.KVM_RUN, "internal", "suberror");
    static final long INTERNAL_NDATA = Layouts.offset(Layouts.KVM_RUN, "internal", "ndata");
    static final long INTERNAL_DATA = Layouts.offset(Layouts.KVM_RUN, "internal", "data");
    static final long SYSTEM_EVENT_TYPE = Layouts.offset(Layouts.KVM_RUN, "system_event", "type");
    static final long SYSTEM_EVENT_NDATA = Layouts.offset(Layouts.KVM_RUN, "system_event", "ndata");
    static final long SYSTEM_EVENT_DATA = INTERNAL_DATA; // same place: after two u32

    static final int EXIT_UNKNOWN = 0;
    static final int EXIT_IO = 2;
    static final int EXIT_HLT = 5;
    static final int EXIT_MMIO = 6;
    static final int EXIT_SHUTDOWN = 8;
    static final int EXIT_FAIL_ENTRY = 9;
    static final int EXIT_INTR = 10;
    static final int EXIT_INTERNAL_ERROR = 17;
    static final int EXIT_SYSTEM_EVENT = 24;

    static final ValueLayout.OfShort LE16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt LE32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong LE64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    static long readLe(MemorySegment s, long at, int length) {
        return switch (length) {
            case 1 -> Byte.toUnsignedLong(s.get(ValueLayout.JAVA_BYTE, at));
            case 2 -> Short.toUnsignedLong(s.get(LE16, at));
            case 4 -> Integer.toUnsignedLong(s.get(LE32, at));
            case 8 -> s.get(LE64, at);
            default -> {
                long v = 0;
                for (int i = length - 1; i >= 0; i--) {
                    v = (v << 8) | Byte.toUnsignedLong(s.get(ValueLayout.JAVA_BYTE, at + i));
                }
                yield v;
            }
        };
    }

    static void writeLe(MemorySegment s, long at, int length, long value) {
        switch (length) {
            case 1 -> s.set(ValueLayout.JAVA_BYTE, at, (byte) value);
            case 2 -> s.set(LE16, at, (short) value);
            case 4 -> s.set(LE32, at, (int) value);
            case 8 -> s.set(LE64, at, value);
            default -> {
                for (int i = 0; i < length; i++) {
                    s.set(ValueLayout.JAVA_BYTE, at + i, (byte) (value >>> (8 * i)));
                }
            }
        }
    }
}
