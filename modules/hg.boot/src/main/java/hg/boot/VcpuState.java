package hg.boot;

import java.util.List;

/**
 * Everything the boot vCPU needs set before its first KVM_RUN. The other vCPUs keep KVM's reset
 * state: the guest kernel wakes them with INIT/SIPI through the in-kernel local APICs.
 */
public record VcpuState(GeneralRegisters regs, SpecialRegisters sregs, FpuState fpu, List<Msr> msrs) {
    public VcpuState {
        msrs = List.copyOf(msrs);
    }
}
