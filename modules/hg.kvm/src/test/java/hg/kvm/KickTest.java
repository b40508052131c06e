package hg.kvm;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** kick() gets a vCPU out of KVM_RUN, even one halted inside the kernel. */
class KickTest {
    @BeforeEach
    void kvm() {
        KvmTestSupport.assumeKvm();
    }

    @Test
    void kickInterruptsAGuestHaltedInTheKernel() throws Exception {
        try (var m = KvmTestSupport.Machine.create(0x10000)) {
            m.vm().createIrqchip(); // with the in-kernel irqchip HLT blocks in KVM_RUN
            Asm a = new Asm(0x1000).cli();
            long halt = a.here();
            a.hlt().jmp(halt);
            m.memory().write(0x1000, a.code());
            VcpuFd vcpu = m.realModeVcpu(0, 0x1000);
            CountDownLatch bound = new CountDownLatch(1);
            CompletableFuture<VcpuExit> exit = new CompletableFuture<>();
            Thread runner = new Thread(() -> {
                vcpu.bindToCurrentThread();
                bound.countDown();
                try {
                    exit.complete(vcpu.run());
                } catch (Throwable t) {
                    exit.completeExceptionally(t);
                } finally {
                    vcpu.unbindThread();
                }
            });
            runner.start();
            assertTrue(bound.await(5, TimeUnit.SECONDS));
            Thread.sleep(200); // let it enter the guest and halt
            vcpu.kick();
            assertInstanceOf(VcpuExit.Interrupted.class, exit.get(10, TimeUnit.SECONDS));
            int mp = vcpu.mpState();
            assertTrue(mp == VcpuFd.MP_STATE_RUNNABLE || mp == VcpuFd.MP_STATE_HALTED, "mp_state " + mp);
            assertTrue(!vcpu.kickPending(), "a consumed kick clears immediate_exit");
        }
    }

    @Test
    void kickBeforeRunMakesTheNextRunReturnAtOnce() {
        try (var m = KvmTestSupport.Machine.create(0x10000)) {
            m.memory().write(0x1000, new Asm(0x1000).movAl(1).outAl(0x10).hlt().code());
            VcpuFd vcpu = m.realModeVcpu(0, 0x1000);
            vcpu.kick();
            assertTrue(vcpu.kickPending());
            assertInstanceOf(VcpuExit.Interrupted.class, vcpu.run());
            // the guest did not run; now it does
            var out = assertInstanceOf(VcpuExit.IoOut.class, vcpu.run());
            assertEquals(0x10, out.port());
        }
    }
}
