package hg.vmm.internal.cpu;

import hg.kvm.DebugRegs;
import hg.kvm.Fpu;
import hg.kvm.LapicState;
import hg.kvm.MsrEntry;
import hg.kvm.Regs;
import hg.kvm.Sregs;
import hg.kvm.VcpuEvents;
import hg.kvm.VcpuFd;
import hg.kvm.Xcr;
import hg.kvm.Xsave;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Everything KVM holds for one x86 vCPU that a snapshot must carry, except CPUID: the restoring
 * side sets CPUID itself, as at boot, before {@link #restoreInto} (KVM checks XCR0, the XSAVE
 * features and several MSRs against it).
 */
public record VcpuState(Regs regs, Sregs sregs, Fpu fpu, Xsave xsave, List<Xcr> xcrs, List<MsrEntry> msrs,
                        LapicState lapic, int mpState, VcpuEvents events, DebugRegs debugRegs) {
    static final int MSR_IA32_TSC = 0x10;
    static final int MSR_IA32_TSC_DEADLINE = 0x6e0;

    public VcpuState {
        Objects.requireNonNull(regs, "regs");
        Objects.requireNonNull(sregs, "sregs");
        Objects.requireNonNull(fpu, "fpu");
        Objects.requireNonNull(xsave, "xsave");
        Objects.requireNonNull(lapic, "lapic");
        Objects.requireNonNull(events, "events");
        Objects.requireNonNull(debugRegs, "debugRegs");
        xcrs = List.copyOf(xcrs);
        msrs = List.copyOf(msrs);
    }

    /**
     * Reads the vCPU's state. The vCPU must be stopped, and its last KVM_RUN must have ended
     * without a pending I/O or MMIO exit (kick it and run it once more: that run completes the
     * access and returns at once); otherwise the state is taken mid-instruction, and a restored
     * guest would see the access again or lose its result.
     *
     * @param msrIndices what to save, usually {@link MsrsToSave#of}; must hold IA32_TSC (0x10)
     *                   for the guest's TSC to continue
     */
    public static VcpuState capture(VcpuFd vcpu, int[] msrIndices) {
        // KVM_GET_MP_STATE first: it makes the LAPIC take pending INIT/SIPI, which changes the
        // registers, so everything read after it agrees with it.
        int mpState = vcpu.mpState();
        Regs regs = vcpu.regs();
        Sregs sregs = vcpu.sregs();
        Fpu fpu = vcpu.fpu();
        Xsave xsave = vcpu.xsave();
        List<Xcr> xcrs = vcpu.xcrs();
        DebugRegs debugRegs = vcpu.debugRegs();
        LapicState lapic = vcpu.lapic();
        List<MsrEntry> msrs = vcpu.msrs(msrIndices);
        VcpuEvents events = vcpu.vcpuEvents();
        return new VcpuState(regs, sregs, fpu, xsave, xcrs, msrs, lapic, mpState, events, debugRegs);
    }

    /**
     * Writes the state into {@code vcpu}: a vCPU of a VM with the in-kernel irqchip, CPUID
     * already set, not running. It may be the vCPU it came from or a fresh one in another VM,
     * and restoring the same state twice is harmless.
     */
    public void restoreInto(VcpuFd vcpu) {
        // The order is KVM's, as Firecracker and QEMU document it:
        // - MP state early: KVM_SET_VCPU_EVENTS checks SMM against it.
        // - Registers before the events: KVM_SET_REGS drops a pending exception, which the
        //   events then bring back.
        // - FPU before XSAVE: the XSAVE area holds all KVM_SET_FPU writes and more (MXCSR, which
        //   KVM_GET_FPU does not report, and AVX and later state), so it goes second and wins.
        // - Special registers before the LAPIC: KVM_SET_SREGS writes the APIC base MSR, which
        //   resets the LAPIC's mode.
        // - LAPIC before the MSRs: KVM takes IA32_TSC_DEADLINE only once the LAPIC timer is in
        //   TSC-deadline mode. KVM_SET_LAPIC restarts a one-shot or periodic timer from the
        //   current count saved in the register page, so it fires as it would have.
        // - Within the MSRs IA32_TSC first and the deadline last: the deadline is in guest TSC
        //   ticks and KVM arms its timer against the TSC as it is when the deadline is written.
        // - The events last: they carry what is pending (exception, NMI, interrupt shadow) on
        //   top of all the rest.
        vcpu.setMpState(mpState);
        vcpu.setRegs(regs);
        vcpu.setSregs(sregs);
        vcpu.setFpu(fpu);
        vcpu.setXsave(xsave);
        vcpu.setXcrs(xcrs);
        vcpu.setDebugRegs(debugRegs);
        vcpu.setLapic(lapic);
        vcpu.setMsrs(tscFirstDeadlineLast(msrs));
        vcpu.setVcpuEvents(events);
    }

    static List<MsrEntry> tscFirstDeadlineLast(List<MsrEntry> msrs) {
        List<MsrEntry> out = new ArrayList<>(msrs.size());
        msrs.stream().filter(m -> m.index() == MSR_IA32_TSC).forEach(out::add);
        msrs.stream().filter(m -> m.index() != MSR_IA32_TSC && m.index() != MSR_IA32_TSC_DEADLINE).forEach(out::add);
        msrs.stream().filter(m -> m.index() == MSR_IA32_TSC_DEADLINE).forEach(out::add);
        return out;
    }
}
