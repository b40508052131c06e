package hg.kvm;

import hg.kvm.internal.Layouts;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;

/**
 * Special registers laid out once as KVM's {@code kvm_sregs}, for every vCPU that starts from
 * them: each vCPU's {@link VcpuFd#setSregsKeepingApic} is then a copy over what KVM reports,
 * rather than the struct decoded and encoded field by field (some hundred fields) per vCPU.
 */
public final class SregsImage {
    /** Where the fields a new vCPU keeps begin: the APIC base, then the pending-interrupt bitmap. */
    static final long KEPT_FROM = Layouts.KVM_SREGS.byteOffset(MemoryLayout.PathElement.groupElement("apic_base"));

    private final Sregs sregs;
    private final MemorySegment struct;

    private SregsImage(Sregs sregs, MemorySegment struct) {
        this.sregs = sregs;
        this.struct = struct;
    }

    public static SregsImage of(Sregs sregs) {
        long size = Layouts.KVM_SREGS.byteSize();
        // long[] rather than byte[]: the struct's fields are written aligned, as in native memory.
        MemorySegment s = MemorySegment.ofArray(new long[Math.toIntExact((size + 7) / 8)]).asSlice(0, size);
        Structs.writeSregs(s, sregs);
        return new SregsImage(sregs, s.asReadOnly());
    }

    public Sregs sregs() {
        return sregs;
    }

    /** The registers up to (not including) the APIC base, to be copied into native memory for the ioctl. */
    MemorySegment keptBefore() {
        return struct.asSlice(0, KEPT_FROM);
    }
}
