package hg.kvm;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

/**
 * Two vCPUs on two threads, each waiting in the guest for a flag only the other sets: both can
 * only finish if they run at the same time.
 */
class TwoVcpuTest {
    @BeforeEach
    void kvm() {
        KvmTestSupport.assumeKvm();
    }

    /** Real mode: set [mine]=1, spin until [theirs]==1, out port, hlt. */
    static byte[] handshake(long origin, int mine, int theirs, int port) {
        Asm a = new Asm(origin).bytes(0xc6, 0x06, mine & 0xff, mine >>> 8, 1); // mov byte [mine], 1
        long spin = a.here();
        a.bytes(0x80, 0x3e, theirs & 0xff, theirs >>> 8, 1);                    // cmp byte [theirs], 1
        a.bytes(0x75, (int) (spin - (a.here() + 2)) & 0xff);                    // jne spin
        return a.movAl(port).outAl(port).hlt().code();
    }

    @Test
    void twoVcpusRunAtOnce() throws Exception {
        try (var m = KvmTestSupport.Machine.create(0x10000)) {
            m.memory().write(0x1000, handshake(0x1000, 0x3000, 0x3001, 0x50));
            m.memory().write(0x2000, handshake(0x2000, 0x3001, 0x3000, 0x51));
            VcpuFd v0 = m.realModeVcpu(0, 0x1000);
            VcpuFd v1 = m.realModeVcpu(1, 0x2000);
            // one platform thread per vCPU (a pool with one worker would run them one after the other)
            try (ExecutorService threads = Executors.newFixedThreadPool(2)) {
                Future<Integer> p0 = threads.submit(() -> runToPort(v0));
                Future<Integer> p1 = threads.submit(() -> runToPort(v1));
                assertEquals(0x50, p0.get(20, TimeUnit.SECONDS));
                assertEquals(0x51, p1.get(20, TimeUnit.SECONDS));
            }
            assertEquals(1, m.memory().readU8(0x3000));
            assertEquals(1, m.memory().readU8(0x3001));
        }
    }

    private static int runToPort(VcpuFd vcpu) {
        var out = assertInstanceOf(VcpuExit.IoOut.class, KvmTestSupport.runGuarded(vcpu));
        assertInstanceOf(VcpuExit.Hlt.class, vcpu.run());
        vcpu.unbindThread();
        return out.port();
    }
}
