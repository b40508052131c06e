package hg.kvm;

import hg.kvm.internal.Layouts;

import java.lang.foreign.MemorySegment;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * A CPUID list already laid out as KVM's {@code kvm_cpuid2}: made once and handed to every vCPU that
 * gets the same list, so that each vCPU's KVM_SET_CPUID2 is one copy rather than a field-by-field
 * layout of some sixty entries.
 */
public final class CpuidTable {
    private final List<CpuidEntry> entries;
    private final MemorySegment struct;

    private CpuidTable(List<CpuidEntry> entries, MemorySegment struct) {
        this.entries = entries;
        this.struct = struct;
    }

    public static CpuidTable of(List<CpuidEntry> entries) {
        List<CpuidEntry> copy = List.copyOf(entries);
        long entry = Layouts.KVM_CPUID_ENTRY2.byteSize();
        long header = Layouts.KVM_CPUID2.byteSize();
        long size = header + entry * copy.size();
        // long[] rather than byte[]: the struct's fields are read and written aligned, as in native memory.
        MemorySegment s = MemorySegment.ofArray(new long[Math.toIntExact((size + 7) / 8)]).asSlice(0, size);
        s.set(JAVA_INT, 0, copy.size());
        for (int i = 0; i < copy.size(); i++) {
            Structs.writeCpuidEntry(s, header + entry * i, copy.get(i));
        }
        return new CpuidTable(copy, s.asReadOnly());
    }

    public List<CpuidEntry> entries() {
        return entries;
    }

    /** The kvm_cpuid2 struct (read-only), to be copied into native memory for the ioctl. */
    MemorySegment struct() {
        return struct;
    }
}
