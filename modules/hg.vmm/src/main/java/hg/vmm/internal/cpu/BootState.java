package hg.vmm.internal.cpu;

import hg.boot.LinuxBoot;
import hg.boot.Msr;
import hg.boot.VcpuState;
import hg.kvm.Fpu;
import hg.kvm.MsrEntry;
import hg.kvm.Regs;
import hg.kvm.Sregs;
import hg.kvm.SregsImage;

import java.util.List;

/** Maps hg.boot's initial vCPU state onto hg.kvm's register structs. */
public final class BootState {
    private BootState() {
    }

    public static Regs regs(hg.boot.GeneralRegisters r) {
        return new Regs(r.rax(), r.rbx(), r.rcx(), r.rdx(), r.rsi(), r.rdi(), r.rsp(), r.rbp(),
                r.r8(), r.r9(), r.r10(), r.r11(), r.r12(), r.r13(), r.r14(), r.r15(), r.rip(), r.rflags());
    }

    static hg.kvm.Segment segment(hg.boot.SegmentRegister s) {
        return new hg.kvm.Segment(s.base(), s.limit(), s.selector(), s.type(), s.present(), s.dpl(), s.db(), s.s(),
                s.l(), s.g(), s.avl(), s.unusable());
    }

    static hg.kvm.DescriptorTable table(hg.boot.TableRegister t) {
        return new hg.kvm.DescriptorTable(t.base(), t.limit());
    }

    public static Fpu fpu(hg.boot.FpuState f) {
        Fpu initial = Fpu.initial();
        return new Fpu(initial.fpr(), f.fcw(), 0, 0, 0, 0, 0, initial.xmm(), f.mxcsr());
    }

    public static List<MsrEntry> msrs(List<Msr> msrs) {
        if (msrs.equals(LinuxBoot.bootMsrs())) {
            return BOOT_MSRS;
        }
        return msrs.stream().map(m -> new MsrEntry(m.index(), m.value())).toList();
    }

    /** Every boot's MSRs (the list is the same for each VM: made once). */
    private static final List<MsrEntry> BOOT_MSRS =
            LinuxBoot.bootMsrs().stream().map(m -> new MsrEntry(m.index(), m.value())).toList();

    /** The boot modes' special registers, each laid out for KVM once (every boot hands the same instance). */
    private static final SregsImage LONG_MODE = SregsImage.of(sregs(LinuxBoot.LONG_MODE_SREGS));
    private static final SregsImage PVH = SregsImage.of(sregs(LinuxBoot.PVH_SREGS));

    static SregsImage image(hg.boot.SpecialRegisters s) {
        return s == LinuxBoot.LONG_MODE_SREGS ? LONG_MODE : s == LinuxBoot.PVH_SREGS ? PVH : SregsImage.of(sregs(s));
    }

    /** The boot's special registers; the APIC base and interrupt bitmap are left for the vCPU to keep. */
    static Sregs sregs(hg.boot.SpecialRegisters s) {
        return new Sregs(segment(s.cs()), segment(s.ds()), segment(s.es()), segment(s.fs()), segment(s.gs()),
                segment(s.ss()), segment(s.tr()), segment(s.ldt()), table(s.gdt()), table(s.idt()),
                s.cr0(), s.cr2(), s.cr3(), s.cr4(), s.cr8(), s.efer(), 0, new long[4]);
    }

    /**
     * Puts a vCPU that KVM has just made into {@code state}. The x87 state is set only when it is not the
     * power-on one, which KVM gives a new vCPU (FCW 0x37f, everything else 0; KVM_SET_FPU does not write
     * MXCSR at all, which KVM's reset leaves at 0x1f80).
     */
    public static void apply(hg.kvm.VcpuFd vcpu, VcpuState state) {
        vcpu.setSregsKeepingApic(image(state.sregs()));
        vcpu.setRegs(regs(state.regs()));
        if (!state.fpu().equals(hg.boot.FpuState.DEFAULT)) {
            vcpu.setFpu(fpu(state.fpu()));
        }
    }
}
