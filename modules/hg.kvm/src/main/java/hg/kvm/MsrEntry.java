package hg.kvm;

/** One model-specific register: its index and value (struct kvm_msr_entry). */
public record MsrEntry(int index, long data) {}
