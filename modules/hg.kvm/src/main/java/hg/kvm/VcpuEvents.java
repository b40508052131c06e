package hg.kvm;

/** Pending and injected events of a vCPU (struct kvm_vcpu_events). */
public record VcpuEvents(Exception exception, Interrupt interrupt, Nmi nmi, int sipiVector, int flags,
                         Smi smi, boolean tripleFaultPending, boolean exceptionHasPayload,
                         long exceptionPayload) {
    /** KVM_VCPUEVENT_VALID_*: which optional parts KVM_SET_VCPU_EVENTS is to apply. */
    public static final int VALID_NMI_PENDING = 0x01;
    public static final int VALID_SIPI_VECTOR = 0x02;
    public static final int VALID_SHADOW = 0x04;
    public static final int VALID_SMM = 0x08;
    /** Only on VMs with KVM_CAP_EXCEPTION_PAYLOAD enabled; KVM refuses it elsewhere. */
    public static final int VALID_PAYLOAD = 0x10;
    /** Only on VMs with KVM_CAP_X86_TRIPLE_FAULT_EVENT enabled; KVM refuses it elsewhere. */
    public static final int VALID_TRIPLE_FAULT = 0x20;

    public record Exception(boolean injected, int nr, boolean hasErrorCode, boolean pending, int errorCode) {}

    public record Interrupt(boolean injected, int nr, boolean soft, int shadow) {}

    public record Nmi(boolean injected, boolean pending, boolean masked) {}

    public record Smi(boolean smm, boolean pending, boolean smmInsideNmi, boolean latchedInit) {}
}
