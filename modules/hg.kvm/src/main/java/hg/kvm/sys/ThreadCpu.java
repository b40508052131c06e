package hg.kvm.sys;

import hg.kvm.internal.Libc;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * The calling thread's CPU time (clock_gettime CLOCK_THREAD_CPUTIME_ID), for a VMM that accounts
 * the steps of its own work without java.management in its runtime. One system call (the vDSO
 * does not serve thread clocks), well under a microsecond: cheap beside steps of tens of them.
 */
public final class ThreadCpu {
    private ThreadCpu() {}

    private static final int CLOCK_THREAD_CPUTIME_ID = 3;
    /** Critical: no thread-state transition, and the timespec may be a Java array. */
    private static final MethodHandle CLOCK_GETTIME = Libc.downcall("clock_gettime",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS), Linker.Option.critical(true));

    /** CPU nanoseconds the calling thread has used so far. */
    public static long nanos() {
        long[] timespec = new long[2];
        int r;
        try {
            r = (int) CLOCK_GETTIME.invokeExact(CLOCK_THREAD_CPUTIME_ID, MemorySegment.ofArray(timespec));
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
        if (r != 0) {
            throw new IllegalStateException("clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
        }
        return timespec[0] * 1_000_000_000L + timespec[1];
    }
}
