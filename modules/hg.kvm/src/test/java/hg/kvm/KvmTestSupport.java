package hg.kvm;

import org.junit.jupiter.api.Assumptions;

import java.util.List;

/** Helpers shared by the tests that run tiny guests on the real /dev/kvm. */
final class KvmTestSupport {
    private KvmTestSupport() {}

    private static final java.util.concurrent.ScheduledExecutorService WATCHDOG =
            java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "vcpu-watchdog");
                t.setDaemon(true);
                return t;
            });

    /**
     * Runs the vCPU on the calling thread; if the guest has not exited within 10 s (e.g. it
     * halts forever waiting for an interrupt that never comes) the vCPU is kicked and the test
     * fails instead of hanging.
     */
    static VcpuExit runGuarded(VcpuFd vcpu) {
        vcpu.bindToCurrentThread();
        var kick = WATCHDOG.schedule(vcpu::kick, 10, java.util.concurrent.TimeUnit.SECONDS);
        try {
            VcpuExit exit = vcpu.run();
            if (exit instanceof VcpuExit.Interrupted) {
                org.junit.jupiter.api.Assertions.fail("guest did not exit within 10 s");
            }
            return exit;
        } finally {
            kick.cancel(false);
        }
    }

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
