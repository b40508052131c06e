package hg.kvm;

/** The VM's kvmclock (struct kvm_clock_data): guest clock in ns and the flags saying what else is valid. */
public record ClockData(long clock, int flags, long realtime, long hostTsc) {}
