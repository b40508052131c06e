package hg.kvm;

/** Pending and injected events of a vCPU (struct kvm_vcpu_events). */
public record VcpuEvents(Exception exception, Interrupt interrupt, Nmi nmi, int sipiVector, int flags,
                         Smi smi, boolean tripleFaultPending, boolean exceptionHasPayload,
                         long exceptionPayload) {
    public record Exception(boolean injected, int nr, boolean hasErrorCode, boolean pending, int errorCode) {}

    public record Interrupt(boolean injected, int nr, boolean soft, int shadow) {}

    public record Nmi(boolean injected, boolean pending, boolean masked) {}

    public record Smi(boolean smm, boolean pending, boolean smmInsideNmi, boolean latchedInit) {}
}
