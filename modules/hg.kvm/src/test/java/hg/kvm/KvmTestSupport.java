package hg.kvm;

import org.junit.jupiter.api.Assumptions;

import java.util.List;

/** Helpers shared by the tests that run tiny guests on the real /dev/kvm. */
final class KvmTestSupport {
    private KvmTestSupport() {}

    static void assumeKvm() {
        Assumptions.assumeTrue(Kvm.present(), "/dev/kvm is absent on this host: KVM tests cannot run");
    }

    /** A VM with {@code size} bytes of RAM at guest-physical 0, registered as slot 0. */
    record Machine(Kvm kvm, VmFd vm, GuestMemory memory) implements AutoCloseable {
        static Machine create(long size) {
            Kvm kvm = Kvm.open();
            VmFd vm = null;
            GuestMemory memory = null;
            try {
                vm = kvm.createVm();
                memory = GuestMemory.map(List.of(new GuestMemory.Range(0, size)));
                vm.registerMemory(memory);
                return new Machine(kvm, vm, memory);
            } catch (RuntimeException e) {
                if (vm != null) vm.close();
                if (memory != null) memory.close();
                kvm.close();
                throw e;
            }
        }

        /** A vCPU in real mode with CS:IP = 0:{@code ip}. */
        VcpuFd realModeVcpu(int id, long ip) {
            VcpuFd vcpu = vm.createVcpu(id);
            Sregs s = vcpu.sregs();
            vcpu.setSregs(s.toBuilder().cs(s.cs().withBase(0).withSelector(0)).build());
            vcpu.setRegs(Regs.builder().rip(ip).build());
            return vcpu;
        }

        @Override
        public void close() {
            vm.close();
            memory.close();
            kvm.close();
        }
    }
}
