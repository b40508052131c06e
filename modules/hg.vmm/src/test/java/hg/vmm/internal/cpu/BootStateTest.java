package hg.vmm.internal.cpu;

import hg.boot.FpuState;
import hg.boot.LinuxBoot;
import hg.boot.Msr;
import hg.kvm.Fpu;
import hg.kvm.Kvm;
import hg.kvm.MsrEntry;
import hg.kvm.Sregs;
import hg.kvm.VcpuFd;
import hg.kvm.VmFd;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

class BootStateTest {

    /**
     * What {@link BootState#apply} leaves unset because a new vCPU has it, against the real KVM: all that
     * KVM_GET_FPU reports (it leaves MXCSR out, as KVM_SET_FPU leaves it unwritten).
     */
    @Test
    void aNewVcpuHoldsTheBootFpuState() {
        Assumptions.assumeTrue(Kvm.present(), "/dev/kvm is absent on this host: KVM tests cannot run");
        Fpu boot = BootState.fpu(FpuState.DEFAULT);
        try (Kvm kvm = Kvm.open(); VmFd vm = kvm.createVm()) {
            vm.createIrqchip();
            try (VcpuFd vcpu = vm.createVcpu(0)) {
                Fpu fresh = vcpu.fpu();
                assertEquals(boot.fcw(), fresh.fcw(), "FCW of a new vCPU");
                assertEquals(List.of(boot.fsw(), boot.ftwx(), boot.lastOpcode(), boot.lastIp(), boot.lastDp()),
                        List.of(fresh.fsw(), fresh.ftwx(), fresh.lastOpcode(), fresh.lastIp(), fresh.lastDp()));
                assertArrayEquals(boot.fpr(), fresh.fpr(), "x87 registers");
                assertArrayEquals(boot.xmm(), fresh.xmm(), "XMM registers");
            }
        }
    }

    /**
     * Each boot mode's special registers reach two vCPUs of a real VM as laid out once, while each vCPU keeps
     * the APIC base KVM gave it (only vCPU 0 is the bootstrap processor).
     */
    @Test
    void theBootSpecialRegistersLandWhileEachVcpuKeepsItsApicBase() {
        Assumptions.assumeTrue(Kvm.present(), "/dev/kvm is absent on this host: KVM tests cannot run");
        for (hg.boot.SpecialRegisters boot : List.of(LinuxBoot.LONG_MODE_SREGS, LinuxBoot.PVH_SREGS)) {
            hg.kvm.SregsImage image = BootState.image(boot);
            assertSame(image, BootState.image(boot), "laid out once");
            try (Kvm kvm = Kvm.open(); VmFd vm = kvm.createVm()) {
                vm.createIrqchip();
                for (int id = 0; id < 2; id++) {
                    try (VcpuFd vcpu = vm.createVcpu(id)) {
                        Sregs fresh = vcpu.sregs();
                        vcpu.setSregsKeepingApic(image);
                        Sregs set = vcpu.sregs();
                        assertEquals(fresh.apicBase(), set.apicBase(), "vCPU " + id + "'s APIC base");
                        assertEquals(id == 0, (set.apicBase() & 0x100) != 0, "the BSP flag");
                        Sregs want = image.sregs();
                        assertEquals(List.of(want.cs(), want.ds(), want.ss(), want.tr(), want.gdt(), want.idt()),
                                List.of(set.cs(), set.ds(), set.ss(), set.tr(), set.gdt(), set.idt()));
                        assertEquals(List.of(want.cr0(), want.cr3(), want.cr4(), want.efer()),
                                List.of(set.cr0(), set.cr3(), set.cr4(), set.efer()));
                    }
                }
            }
        }
    }

    @Test
    void msrsAreTheBootsOwnOrMappedOneByOne() {
        List<Msr> boot = LinuxBoot.bootMsrs();
        assertEquals(boot.stream().map(m -> new MsrEntry(m.index(), m.value())).toList(), BootState.msrs(boot));
        List<Msr> other = List.of(new Msr(LinuxBoot.MSR_IA32_TSC, 42));
        assertEquals(List.of(new MsrEntry(LinuxBoot.MSR_IA32_TSC, 42)), BootState.msrs(other));
    }
}
