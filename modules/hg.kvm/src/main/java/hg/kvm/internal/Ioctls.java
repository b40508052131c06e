package hg.kvm.internal;

import java.util.LinkedHashMap;
import java.util.Map;

import static hg.kvm.internal.Layouts.*;

/** KVM ioctl request numbers, computed like the kernel's _IO/_IOR/_IOW/_IOWR macros. */
public final class Ioctls {
    private Ioctls() {}

    private static final IoctlType KVMIO = new IoctlType(0xAE);

    // system ioctls
    public static final long KVM_GET_API_VERSION = KVMIO.io(0x00);
    public static final long KVM_CREATE_VM = KVMIO.io(0x01);
    public static final long KVM_GET_MSR_INDEX_LIST = KVMIO.iowr(0x02, KVM_MSR_LIST.byteSize());
    public static final long KVM_CHECK_EXTENSION = KVMIO.io(0x03);
    public static final long KVM_GET_VCPU_MMAP_SIZE = KVMIO.io(0x04);
    public static final long KVM_GET_SUPPORTED_CPUID = KVMIO.iowr(0x05, KVM_CPUID2.byteSize());

    // vm ioctls
    public static final long KVM_CREATE_VCPU = KVMIO.io(0x41);
    public static final long KVM_SET_USER_MEMORY_REGION = KVMIO.iow(0x46, KVM_USERSPACE_MEMORY_REGION.byteSize());
    public static final long KVM_SET_TSS_ADDR = KVMIO.io(0x47);
    public static final long KVM_SET_IDENTITY_MAP_ADDR = KVMIO.iow(0x48, 8);
    public static final long KVM_CREATE_IRQCHIP = KVMIO.io(0x60);
    public static final long KVM_IRQ_LINE = KVMIO.iow(0x61, KVM_IRQ_LEVEL.byteSize());
    // SET_IRQCHIP is _IOR in linux/kvm.h (a historical slip the ABI keeps), so its number says "read".
    public static final long KVM_GET_IRQCHIP = KVMIO.iowr(0x62, Layouts.KVM_IRQCHIP.byteSize());
    public static final long KVM_SET_IRQCHIP = KVMIO.ior(0x63, Layouts.KVM_IRQCHIP.byteSize());
    public static final long KVM_SET_GSI_ROUTING = KVMIO.iow(0x6a, KVM_IRQ_ROUTING.byteSize());
    public static final long KVM_REGISTER_COALESCED_MMIO = KVMIO.iow(0x67, Layouts.KVM_COALESCED_MMIO_ZONE.byteSize());
    public static final long KVM_IRQFD = KVMIO.iow(0x76, Layouts.KVM_IRQFD.byteSize());
    public static final long KVM_CREATE_PIT2 = KVMIO.iow(0x77, KVM_PIT_CONFIG.byteSize());
    public static final long KVM_IOEVENTFD = KVMIO.iow(0x79, Layouts.KVM_IOEVENTFD.byteSize());
    public static final long KVM_SET_CLOCK = KVMIO.iow(0x7b, KVM_CLOCK_DATA.byteSize());
    public static final long KVM_GET_CLOCK = KVMIO.ior(0x7c, KVM_CLOCK_DATA.byteSize());

    // vcpu ioctls
    public static final long KVM_RUN = KVMIO.io(0x80);
    public static final long KVM_GET_REGS = KVMIO.ior(0x81, KVM_REGS.byteSize());
    public static final long KVM_SET_REGS = KVMIO.iow(0x82, KVM_REGS.byteSize());
    public static final long KVM_GET_SREGS = KVMIO.ior(0x83, KVM_SREGS.byteSize());
    public static final long KVM_SET_SREGS = KVMIO.iow(0x84, KVM_SREGS.byteSize());
    public static final long KVM_INTERRUPT = KVMIO.iow(0x86, Layouts.KVM_INTERRUPT.byteSize());
    public static final long KVM_GET_MSRS = KVMIO.iowr(0x88, KVM_MSRS.byteSize());
    public static final long KVM_SET_MSRS = KVMIO.iow(0x89, KVM_MSRS.byteSize());
    public static final long KVM_SET_SIGNAL_MASK = KVMIO.iow(0x8b, KVM_SIGNAL_MASK.byteSize());
    public static final long KVM_GET_FPU = KVMIO.ior(0x8c, KVM_FPU.byteSize());
    public static final long KVM_SET_FPU = KVMIO.iow(0x8d, KVM_FPU.byteSize());
    public static final long KVM_GET_LAPIC = KVMIO.ior(0x8e, KVM_LAPIC_STATE.byteSize());
    public static final long KVM_SET_LAPIC = KVMIO.iow(0x8f, KVM_LAPIC_STATE.byteSize());
    public static final long KVM_SET_CPUID2 = KVMIO.iow(0x90, KVM_CPUID2.byteSize());
    public static final long KVM_GET_CPUID2 = KVMIO.iowr(0x91, KVM_CPUID2.byteSize());
    public static final long KVM_GET_MP_STATE = KVMIO.ior(0x98, KVM_MP_STATE.byteSize());
    public static final long KVM_SET_MP_STATE = KVMIO.iow(0x99, KVM_MP_STATE.byteSize());
    public static final long KVM_NMI = KVMIO.io(0x9a);
    public static final long KVM_GET_VCPU_EVENTS = KVMIO.ior(0x9f, KVM_VCPU_EVENTS.byteSize());
    public static final long KVM_SET_VCPU_EVENTS = KVMIO.iow(0xa0, KVM_VCPU_EVENTS.byteSize());
    public static final long KVM_GET_PIT2 = KVMIO.ior(0x9f, KVM_PIT_STATE2.byteSize());
    public static final long KVM_SET_PIT2 = KVMIO.iow(0xa0, KVM_PIT_STATE2.byteSize());
    public static final long KVM_GET_DEBUGREGS = KVMIO.ior(0xa1, KVM_DEBUGREGS.byteSize());
    public static final long KVM_SET_DEBUGREGS = KVMIO.iow(0xa2, KVM_DEBUGREGS.byteSize());
    public static final long KVM_SET_TSC_KHZ = KVMIO.io(0xa2);
    public static final long KVM_GET_TSC_KHZ = KVMIO.io(0xa3);
    public static final long KVM_KVMCLOCK_CTRL = KVMIO.io(0xad);
    public static final long KVM_GET_XCRS = KVMIO.ior(0xa6, KVM_XCRS.byteSize());
    public static final long KVM_SET_XCRS = KVMIO.iow(0xa7, KVM_XCRS.byteSize());
    public static final long KVM_GET_XSAVE = KVMIO.ior(0xa4, KVM_XSAVE.byteSize());
    public static final long KVM_SET_XSAVE = KVMIO.iow(0xa5, KVM_XSAVE.byteSize());
    public static final long KVM_GET_XSAVE2 = KVMIO.ior(0xcf, KVM_XSAVE.byteSize());

    /** Every request number by its C macro name, for the test that checks them against gcc. */
    public static Map<String, Long> all() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("KVM_GET_API_VERSION", KVM_GET_API_VERSION);
        m.put("KVM_CREATE_VM", KVM_CREATE_VM);
        m.put("KVM_GET_MSR_INDEX_LIST", KVM_GET_MSR_INDEX_LIST);
        m.put("KVM_CHECK_EXTENSION", KVM_CHECK_EXTENSION);
        m.put("KVM_GET_VCPU_MMAP_SIZE", KVM_GET_VCPU_MMAP_SIZE);
        m.put("KVM_GET_SUPPORTED_CPUID", KVM_GET_SUPPORTED_CPUID);
        m.put("KVM_CREATE_VCPU", KVM_CREATE_VCPU);
        m.put("KVM_SET_USER_MEMORY_REGION", KVM_SET_USER_MEMORY_REGION);
        m.put("KVM_SET_TSS_ADDR", KVM_SET_TSS_ADDR);
        m.put("KVM_SET_IDENTITY_MAP_ADDR", KVM_SET_IDENTITY_MAP_ADDR);
        m.put("KVM_CREATE_IRQCHIP", KVM_CREATE_IRQCHIP);
        m.put("KVM_IRQ_LINE", KVM_IRQ_LINE);
        m.put("KVM_REGISTER_COALESCED_MMIO", KVM_REGISTER_COALESCED_MMIO);
        m.put("KVM_IRQFD", KVM_IRQFD);
        m.put("KVM_SET_GSI_ROUTING", KVM_SET_GSI_ROUTING);
        m.put("KVM_CREATE_PIT2", KVM_CREATE_PIT2);
        m.put("KVM_IOEVENTFD", KVM_IOEVENTFD);
        m.put("KVM_SET_CLOCK", KVM_SET_CLOCK);
        m.put("KVM_GET_CLOCK", KVM_GET_CLOCK);
        m.put("KVM_RUN", KVM_RUN);
        m.put("KVM_GET_REGS", KVM_GET_REGS);
        m.put("KVM_SET_REGS", KVM_SET_REGS);
        m.put("KVM_GET_SREGS", KVM_GET_SREGS);
        m.put("KVM_SET_SREGS", KVM_SET_SREGS);
        m.put("KVM_INTERRUPT", KVM_INTERRUPT);
        m.put("KVM_GET_MSRS", KVM_GET_MSRS);
        m.put("KVM_SET_MSRS", KVM_SET_MSRS);
        m.put("KVM_SET_SIGNAL_MASK", KVM_SET_SIGNAL_MASK);
        m.put("KVM_GET_FPU", KVM_GET_FPU);
        m.put("KVM_SET_FPU", KVM_SET_FPU);
        m.put("KVM_GET_LAPIC", KVM_GET_LAPIC);
        m.put("KVM_SET_LAPIC", KVM_SET_LAPIC);
        m.put("KVM_SET_CPUID2", KVM_SET_CPUID2);
        m.put("KVM_GET_CPUID2", KVM_GET_CPUID2);
        m.put("KVM_GET_MP_STATE", KVM_GET_MP_STATE);
        m.put("KVM_SET_MP_STATE", KVM_SET_MP_STATE);
        m.put("KVM_NMI", KVM_NMI);
        m.put("KVM_GET_VCPU_EVENTS", KVM_GET_VCPU_EVENTS);
        m.put("KVM_SET_VCPU_EVENTS", KVM_SET_VCPU_EVENTS);
        m.put("KVM_GET_XCRS", KVM_GET_XCRS);
        m.put("KVM_SET_TSC_KHZ", KVM_SET_TSC_KHZ);
        m.put("KVM_GET_TSC_KHZ", KVM_GET_TSC_KHZ);
        m.put("KVM_KVMCLOCK_CTRL", KVM_KVMCLOCK_CTRL);
        m.put("KVM_SET_XCRS", KVM_SET_XCRS);
        m.put("KVM_GET_IRQCHIP", KVM_GET_IRQCHIP);
        m.put("KVM_SET_IRQCHIP", KVM_SET_IRQCHIP);
        m.put("KVM_GET_PIT2", KVM_GET_PIT2);
        m.put("KVM_SET_PIT2", KVM_SET_PIT2);
        m.put("KVM_GET_DEBUGREGS", KVM_GET_DEBUGREGS);
        m.put("KVM_SET_DEBUGREGS", KVM_SET_DEBUGREGS);
        m.put("KVM_GET_XSAVE", KVM_GET_XSAVE);
        m.put("KVM_SET_XSAVE", KVM_SET_XSAVE);
        m.put("KVM_GET_XSAVE2", KVM_GET_XSAVE2);
        return m;
    }
}
