package hg.kvm.sys;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertTrue;

class ThreadCpuTest {
    @Test
    void countsTheCallingThreadsWorkAndNotItsSleep() throws InterruptedException {
        long t0 = ThreadCpu.nanos();
        long spin = System.nanoTime() + 50_000_000L;
        long x = 0;
        while (System.nanoTime() < spin) {
            x += x * 31 + 7;
        }
        long t1 = ThreadCpu.nanos();
        assertTrue(t1 - t0 > 30_000_000L, "50 ms of spinning counted as " + (t1 - t0) + " ns (" + x + ")");
        Thread.sleep(100);
        long t2 = ThreadCpu.nanos();
        assertTrue(t2 - t1 < 20_000_000L, "100 ms asleep counted as " + (t2 - t1) + " ns");
    }
}
