package hg.kvm;

/** One extended control register (struct kvm_xcr); XCR0 is index 0. */
public record Xcr(int xcr, long value) {}
