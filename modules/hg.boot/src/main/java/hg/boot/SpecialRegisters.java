package hg.boot;

/**
 * SegmentRegister, descriptor-table and control registers of a vCPU (the parts of KVM's {@code kvm_sregs}
 * a boot sets; the APIC base and interrupt bitmap stay as KVM creates them).
 */
public record SpecialRegisters(SegmentRegister cs, SegmentRegister ds, SegmentRegister es, SegmentRegister fs, SegmentRegister gs, SegmentRegister ss,
                               SegmentRegister tr, SegmentRegister ldt, TableRegister gdt, TableRegister idt,
                               long cr0, long cr2, long cr3, long cr4, long cr8, long efer) {

    public static final long CR0_PE = 1L, CR0_ET = 1L << 4, CR0_PG = 1L << 31;
    public static final long CR4_PAE = 1L << 5;
    public static final long EFER_LME = 1L << 8, EFER_LMA = 1L << 10;
}
