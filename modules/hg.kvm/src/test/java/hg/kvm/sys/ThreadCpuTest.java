package hg.kvm.sys;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertTrue;

class ThreadCpuTest {
    /** The calling thread's CPU nanoseconds as the scheduler counts them (the first field of its schedstat). */
    private static long schedstat() throws IOException {
        String s = Files.readString(Path.of("/proc/thread-self/schedstat"));
        return Long.parseLong(s.substring(0, s.indexOf(' ')));
    }

    @Test
    void countsTheCallingThreadsWorkAndNotItsSleep() throws Exception {
        ThreadCpu.nanos();   // its class set up (the FFM linker's first use) before either clock is read
        long t0 = ThreadCpu.nanos();
        long s0 = schedstat();
        // Spin until the scheduler counted 50 ms on this thread, however busy the machine is.
        long x = 0;
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (schedstat() - s0 < 50_000_000L && System.nanoTime() < deadline) {
            for (int i = 0; i < 100_000; i++) {
                x += x * 31 + 7;
            }
        }
        long t1 = ThreadCpu.nanos();
        long s1 = schedstat();
        assertTrue(t1 - t0 >= 45_000_000L && Math.abs((t1 - t0) - (s1 - s0)) < 10_000_000L,
                "the thread clock counted " + (t1 - t0) + " ns where the scheduler counted " + (s1 - s0) + " (" + x + ")");
        Thread.sleep(100);
        long t2 = ThreadCpu.nanos();
        assertTrue(t2 - t1 < 20_000_000L, "100 ms asleep counted as " + (t2 - t1) + " ns");
    }
}
