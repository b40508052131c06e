package hg.kvm;

/** KVM capability numbers for {@link Kvm#checkExtension} and {@link VmFd#checkExtension}. */
public final class KvmCap {
    private KvmCap() {}

    public static final int IRQCHIP = 0;
    public static final int HLT = 1;
    public static final int USER_MEMORY = 3;
    public static final int SET_TSS_ADDR = 4;
    public static final int EXT_CPUID = 7;
    public static final int NR_VCPUS = 9;
    public static final int NR_MEMSLOTS = 10;
    public static final int MP_STATE = 14;
    /** The coalesced ring's page offset in a vCPU's mmap (0: no ring). */
    public static final int COALESCED_MMIO = 15;
    public static final int IRQ_ROUTING = 25;
    public static final int IRQFD = 32;
    public static final int PIT2 = 33;
    public static final int IOEVENTFD = 36;
    public static final int ADJUST_CLOCK = 39;
    public static final int VCPU_EVENTS = 41;
    public static final int DEBUGREGS = 50;
    public static final int XSAVE = 55;
    public static final int XCRS = 56;
    public static final int TSC_CONTROL = 60;
    public static final int GET_TSC_KHZ = 61;
    public static final int MAX_VCPUS = 66;
    public static final int TSC_DEADLINE_TIMER = 72;
    public static final int SIGNAL_MSI = 77;
    public static final int IMMEDIATE_EXIT = 136;
    /** Coalesced zones may be I/O ports. */
    public static final int COALESCED_PIO = 162;
    public static final int EXCEPTION_PAYLOAD = 164;
    /** The kvm_xsave size KVM_GET_XSAVE2 and KVM_SET_XSAVE use (at least 4096); asked on the VM fd. */
    public static final int XSAVE2 = 208;
    public static final int X86_TRIPLE_FAULT_EVENT = 218;
}
