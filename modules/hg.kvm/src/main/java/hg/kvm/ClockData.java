package hg.kvm;

/** The VM's kvmclock (struct kvm_clock_data): guest clock in ns and the flags saying what else is valid. */
public record ClockData(long clock, int flags, long realtime, long hostTsc) {
    /** KVM_CLOCK_TSC_STABLE: from KVM_GET_CLOCK only; the clock runs off a stable master clock. */
    public static final int FLAG_TSC_STABLE = 2;
    /**
     * KVM_CLOCK_REALTIME: {@link #realtime} is host CLOCK_REALTIME at the moment {@link #clock}
     * was read; given to KVM_SET_CLOCK it adds the wall time since then to the clock.
     */
    public static final int FLAG_REALTIME = 1 << 2;
    /** KVM_CLOCK_HOST_TSC: from KVM_GET_CLOCK only; {@link #hostTsc} is valid. */
    public static final int FLAG_HOST_TSC = 1 << 3;

    /**
     * This clock without {@link #FLAG_REALTIME}: set, the guest clock resumes at {@link #clock}
     * as if no time passed while the VM was stopped.
     */
    public ClockData withoutRealtime() {
        return new ClockData(clock, flags & ~FLAG_REALTIME, 0, hostTsc);
    }
}
