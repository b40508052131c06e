package hg.kvm;

/** The GDT or IDT register (struct kvm_dtable): base address and limit (size - 1). */
public record DescriptorTable(long base, int limit) {
    public DescriptorTable {
        if ((limit & ~0xffff) != 0) {
            throw new IllegalArgumentException("descriptor table limit 0x" + Integer.toHexString(limit) + " > 0xffff");
        }
    }
}
