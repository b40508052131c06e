package hg.boot;

import hg.kvm.Fpu;
import hg.kvm.MsrEntry;
import hg.kvm.Regs;
import hg.kvm.Sregs;
import hg.kvm.VcpuFd;

/** Puts an hg.boot {@link VcpuState} onto a KVM vCPU: the mapping a VMM does before the first run. */
final class KvmState {
    private KvmState() {
    }

    static void apply(VcpuFd vcpu, VcpuState state) {
        GeneralRegisters g = state.regs();
        vcpu.setRegs(Regs.builder().rax(g.rax()).rbx(g.rbx()).rcx(g.rcx()).rdx(g.rdx()).rsi(g.rsi()).rdi(g.rdi())
                .rsp(g.rsp()).rbp(g.rbp()).r8(g.r8()).r9(g.r9()).r10(g.r10()).r11(g.r11()).r12(g.r12())
                .r13(g.r13()).r14(g.r14()).r15(g.r15()).rip(g.rip()).rflags(g.rflags()).build());
        SpecialRegisters s = state.sregs();
        vcpu.setSregs(vcpu.sregs().toBuilder().cs(seg(s.cs())).ds(seg(s.ds())).es(seg(s.es())).fs(seg(s.fs()))
                .gs(seg(s.gs())).ss(seg(s.ss())).tr(seg(s.tr())).ldt(seg(s.ldt()))
                .gdt(new hg.kvm.DescriptorTable(s.gdt().base(), s.gdt().limit()))
                .idt(new hg.kvm.DescriptorTable(s.idt().base(), s.idt().limit()))
                .cr0(s.cr0()).cr2(s.cr2()).cr3(s.cr3()).cr4(s.cr4()).cr8(s.cr8()).efer(s.efer()).build());
        Fpu f = Fpu.initial();
        vcpu.setFpu(new Fpu(f.fpr(), state.fpu().fcw(), f.fsw(), f.ftwx(), f.lastOpcode(), f.lastIp(), f.lastDp(),
                f.xmm(), state.fpu().mxcsr()));
        vcpu.setMsrs(state.msrs().stream().map(m -> new MsrEntry(m.index(), m.value())).toList());
    }

    static hg.kvm.Segment seg(SegmentRegister r) {
        return new hg.kvm.Segment(r.base(), r.limit(), r.selector(), r.type(), r.present(), r.dpl(), r.db(), r.s(),
                r.l(), r.g(), r.avl(), r.unusable());
    }
}
