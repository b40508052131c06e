package hg.kvm;

import hg.kvm.internal.Libc;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Interrupts a vCPU thread blocked inside KVM_RUN with a signal (SIGURG). The signal stays blocked
 * in that thread's Java code and KVM unblocks it only while the guest runs, so it interrupts
 * KVM_RUN and is never delivered to the JVM; a stray one is harmless, as SIGURG's default is
 * "ignore". One per bound thread; {@link VcpuFd} holds it while bound.
 */
final class ThreadKick {
    static final int SIGNAL = 23; // SIGURG
    private static final long SIGNAL_BIT = 1L << (SIGNAL - 1);

    private final int pid;
    private final int tid;

    private ThreadKick(int pid, int tid) {
        this.pid = pid;
        this.tid = tid;
    }

    /**
     * Blocks the signal in the calling (platform) thread and returns the signal mask KVM should
     * run the guest with: the thread's mask without the kick signal.
     */
    static ThreadKick bindCurrentThread(VcpuFd vcpu) {
        if (Thread.currentThread().isVirtual()) {
            // the signal mask and the kick target belong to the carrier, which can change
            throw new IllegalStateException("run vCPUs on platform threads, not virtual threads");
        }
        long threadMask;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment set = a.allocate(Libc.SIGSET_SIZE, 8);
            MemorySegment old = a.allocate(Libc.SIGSET_SIZE, 8);
            set.set(JAVA_LONG, 0, SIGNAL_BIT);
            int rc = (int) Libc.PTHREAD_SIGMASK.invokeExact(Libc.SIG_BLOCK, set, old);
            if (rc != 0) {
                throw new KvmException("pthread_sigmask", rc);
            }
            threadMask = old.get(JAVA_LONG, 0);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
        vcpu.setSignalMask(threadMask & ~SIGNAL_BIT);
        // A thread that ran another vCPU may hold that one's last kick: it would end the first KVM_RUN at once.
        consumePending();
        // The JDK keeps the process id: no getpid per vCPU.
        return new ThreadKick((int) ProcessHandle.current().pid(), Libc.gettid());
    }

    /** Signals the bound thread; ESRCH (the thread is gone) is fine, there is nothing to interrupt then. */
    void signal() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = Libc.newCallState(a);
            int ignored = (int) Libc.TGKILL.invokeExact(state, pid, tid, SIGNAL);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** Takes a pending kick signal off the calling thread, so the next KVM_RUN does not end at once. */
    static void consumePending() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment set = a.allocate(Libc.SIGSET_SIZE, 8);
            set.set(JAVA_LONG, 0, SIGNAL_BIT);
            MemorySegment zero = a.allocate(16, 8); // struct timespec {0, 0}: poll, do not wait
            MemorySegment state = Libc.newCallState(a);
            int ignored = (int) Libc.SIGTIMEDWAIT.invokeExact(state, set, MemorySegment.NULL, zero);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }
}
