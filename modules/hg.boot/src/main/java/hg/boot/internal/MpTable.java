package hg.boot.internal;

import hg.boot.X86Layout;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * An Intel MultiProcessor Specification 1.4 table: the floating pointer followed by the
 * configuration table (one processor entry per vCPU, an ISA bus, the IOAPIC, its 24 interrupt
 * sources, and the LINT0/LINT1 wiring). Linux finds it by scanning the first KiB of the EBDA and
 * learns the CPUs' APIC ids from it when there is no ACPI.
 */
public final class MpTable {
    public static final int FLOATING_POINTER_SIZE = 16;
    public static final int HEADER_SIZE = 44;
    public static final int PROCESSOR_ENTRY_SIZE = 20;
    public static final int ENTRY_SIZE = 8;
    public static final int IOAPIC_PINS = 24;
    public static final long LAPIC_ADDRESS = X86Layout.LAPIC_ADDRESS;
    public static final long IOAPIC_ADDRESS = X86Layout.IOAPIC_ADDRESS;
    static final int APIC_VERSION = 0x14;
    static final int IOAPIC_VERSION = 0x11;
    static final int CPU_SIGNATURE = 0x600;      // family 6
    static final int CPU_FEATURES = 0x201;       // FPU, APIC
    static final int ENTRY_PROCESSOR = 0, ENTRY_BUS = 1, ENTRY_IOAPIC = 2, ENTRY_IOINT = 3, ENTRY_LINT = 4;
    static final int INT_TYPE_INT = 0, INT_TYPE_NMI = 1, INT_TYPE_EXTINT = 3;

    private MpTable() {
    }

    public static int size(int vcpus) {
        return FLOATING_POINTER_SIZE + HEADER_SIZE + vcpus * PROCESSOR_ENTRY_SIZE
                + ENTRY_SIZE * (2 + IOAPIC_PINS + 2);
    }

    /** The IOAPIC's id: the first one after the vCPUs' APIC ids 0..vcpus-1. */
    public static int ioapicId(int vcpus) {
        return vcpus;
    }

    /**
     * The table for {@code vcpus} at the layout's address, made once per count: callers copy it and must not
     * write to it.
     */
    public static byte[] atLayoutAddress(int vcpus) {
        if (vcpus < 1 || vcpus > 254) {
            throw new IllegalArgumentException("vcpus " + vcpus);
        }
        byte[] table = BY_VCPUS.get(vcpus);
        if (table == null) {
            table = build(X86Layout.MPTABLE_ADDRESS, vcpus);
            BY_VCPUS.set(vcpus, table);
        }
        return table;
    }

    private static final java.util.concurrent.atomic.AtomicReferenceArray<byte[]> BY_VCPUS =
            new java.util.concurrent.atomic.AtomicReferenceArray<>(255);

    /** The table as it must sit at guest-physical {@code address}. */
    public static byte[] build(long address, int vcpus) {
        if (vcpus < 1 || vcpus > 254) {
            throw new IllegalArgumentException("vcpus " + vcpus);
        }
        byte[] out = new byte[size(vcpus)];
        ByteBuffer b = ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
        // Floating pointer.
        b.put("_MP_".getBytes(StandardCharsets.US_ASCII));
        b.putInt((int) (address + FLOATING_POINTER_SIZE)); // physical address of the config table
        b.put((byte) 1);   // length in 16-byte units
        b.put((byte) 4);   // spec revision 1.4
        b.put((byte) 0);   // checksum, below
        b.put(new byte[5]); // feature bytes: 0 = a configuration table is present
        // Configuration table header.
        int table = FLOATING_POINTER_SIZE;
        b.put("PCMP".getBytes(StandardCharsets.US_ASCII));
        b.putShort((short) (out.length - table));
        b.put((byte) 4);
        b.put((byte) 0);   // checksum, below
        b.put("HYPERGEN".getBytes(StandardCharsets.US_ASCII));
        b.put("000000000000".getBytes(StandardCharsets.US_ASCII));
        b.putInt(0);       // OEM table pointer
        b.putShort((short) 0);
        b.putShort((short) (vcpus + 2 + IOAPIC_PINS + 2)); // entry count
        b.putInt((int) LAPIC_ADDRESS);
        b.putShort((short) 0); // extended table length
        b.put((byte) 0);
        b.put((byte) 0);
        for (int cpu = 0; cpu < vcpus; cpu++) {
            b.put((byte) ENTRY_PROCESSOR);
            b.put((byte) cpu);               // local APIC id
            b.put((byte) APIC_VERSION);
            b.put((byte) (cpu == 0 ? 3 : 1)); // enabled, and bootstrap for cpu 0
            b.putInt(CPU_SIGNATURE);
            b.putInt(CPU_FEATURES);
            b.putLong(0);
        }
        b.put((byte) ENTRY_BUS);
        b.put((byte) 0);
        b.put("ISA   ".getBytes(StandardCharsets.US_ASCII));
        int ioapic = ioapicId(vcpus);
        b.put((byte) ENTRY_IOAPIC);
        b.put((byte) ioapic);
        b.put((byte) IOAPIC_VERSION);
        b.put((byte) 1);   // enabled
        b.putInt((int) IOAPIC_ADDRESS);
        for (int irq = 0; irq < IOAPIC_PINS; irq++) {
            b.put((byte) ENTRY_IOINT);
            b.put((byte) INT_TYPE_INT);
            b.putShort((short) 0); // polarity and trigger as the bus defines them
            b.put((byte) 0);       // source bus: ISA
            b.put((byte) irq);
            b.put((byte) ioapic);
            b.put((byte) irq);
        }
        b.put((byte) ENTRY_LINT);
        b.put((byte) INT_TYPE_EXTINT);
        b.putShort((short) 0);
        b.put((byte) 0);
        b.put((byte) 0);
        b.put((byte) 0);      // every local APIC ... (0 = APIC id 0)
        b.put((byte) 0);      // LINT0
        b.put((byte) ENTRY_LINT);
        b.put((byte) INT_TYPE_NMI);
        b.putShort((short) 0);
        b.put((byte) 0);
        b.put((byte) 0);
        b.put((byte) 0xff);   // all local APICs
        b.put((byte) 1);      // LINT1
        out[table + 7] = checksum(out, table, out.length - table);
        out[10] = checksum(out, 0, FLOATING_POINTER_SIZE);
        return out;
    }

    /** The byte that makes {@code length} bytes from {@code from} sum to zero (it must be zero when computed). */
    static byte checksum(byte[] bytes, int from, int length) {
        int sum = 0;
        for (int i = from; i < from + length; i++) {
            sum += bytes[i];
        }
        return (byte) -sum;
    }
}
