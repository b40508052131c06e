package hg.vmm.internal.cpu;

import hg.vmm.internal.bus.Bus;
import hg.kvm.CoalescedRing;
import hg.kvm.KvmException;
import hg.kvm.Regs;
import hg.kvm.Sregs;
import hg.kvm.VcpuEvents;
import hg.kvm.VcpuExit;
import hg.kvm.VcpuFd;
import hg.kvm.sys.ThreadCpu;
import hg.vmm.StopReason;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The body of one vCPU thread: KVM_RUN, dispatch the exit to the buses, repeat. A small
 * state machine (running, paused, finished) driven by its owner through {@link #pause},
 * {@link #resume} and {@link #finish}; each kicks the vCPU out of KVM_RUN (immediate_exit
 * plus a signal) so a halted guest reacts at once.
 */
public final class VcpuLoop implements Runnable {

    public enum State { RUNNING, PAUSED, FINISHED }

    /** What the loop reports to its VM: the guest or KVM ended it. Called at most a few times; the first reason wins. */
    @FunctionalInterface
    public interface Owner {
        void stop(StopReason reason);
    }

    /** Where a vCPU starts after INIT or reset (offset 0xfff0 in the reset code segment). */
    private static final long RESET_RIP = 0xfff0;

    private static final VarHandle EXITS;

    static {
        try {
            EXITS = MethodHandles.lookup().findVarHandle(VcpuLoop.class, "exits", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final int index;
    private final VcpuFd vcpu;
    private final Bus pio;
    private final Bus mmio;
    private final Owner owner;
    /** The VM's ring of coalesced port writes (shared by its vCPUs), or null. */
    private final CoalescedRing coalesced;
    private final CoalescedRing.Writes replay = this::replay;
    private final byte[][] buffers = {new byte[1], new byte[2], new byte[4], new byte[8]};

    private volatile boolean finishRequested;
    private volatile boolean pauseRequested;
    private State state = State.RUNNING;
    /**
     * Exits of KVM_RUN this loop handled, of every kind. Written only by the vCPU thread, with an
     * opaque store (a plain store on x86: no fence, no lock on the exit path), read by anyone with
     * an opaque load: a reader sees a recent count, never a torn one. A restored VM's loops count
     * from 0 again.
     */
    private long exits;
    /** The thread's CPU time ({@link ThreadCpu#nanos}) when its first KVM_RUN returned; -1 until then. */
    private volatile long cpuAtFirstExit = -1;

    /** @param coalesced the VM's coalesced ring, replayed before every exit this loop handles; null if none */
    public VcpuLoop(int index, VcpuFd vcpu, Bus pio, Bus mmio, CoalescedRing coalesced, Owner owner) {
        this.index = index;
        this.vcpu = vcpu;
        this.pio = pio;
        this.mmio = mmio;
        this.coalesced = coalesced;
        this.owner = owner;
    }

    public VcpuFd vcpu() {
        return vcpu;
    }

    public synchronized State state() {
        return state;
    }

    public void pause() {
        pauseRequested = true;
        vcpu.kick();
    }

    public synchronized void resume() {
        pauseRequested = false;
        notifyAll();
    }

    /** Makes the loop end soon; safe from any thread, also before the thread started. */
    public void finish() {
        finishRequested = true;
        synchronized (this) {
            notifyAll();
        }
        vcpu.kick();
    }

    @Override
    public void run() {
        try {
            vcpu.bindToCurrentThread();
            while (!finishRequested) {
                if (pauseRequested && !awaitResume()) {
                    break;
                }
                VcpuExit exit = vcpu.run();
                if (exits == 0) {
                    cpuAtFirstExit = ThreadCpu.nanos();
                }
                EXITS.setOpaque(this, exits + 1);
                // The writes the guest made without exiting came before this exit: the devices see them first.
                drainCoalesced();
                handle(exit);
            }
        } catch (KvmException e) {
            owner.stop(new StopReason.InternalError("vCPU " + index + ": " + e.getMessage()));
        } catch (RuntimeException | Error e) {
            owner.stop(new StopReason.InternalError("vCPU " + index + " thread failed: " + e));
        } finally {
            drainCoalesced();
            vcpu.unbindThread();
            synchronized (this) {
                state = State.FINISHED;
                notifyAll();
            }
        }
    }

    /** Waits while paused; false when asked to finish meanwhile. */
    private synchronized boolean awaitResume() {
        // A paused vCPU's registers are read for snapshots: the last exit's emulation must be done.
        vcpu.completePendingIo();
        // A paused VM's devices are saved in snapshots: nothing may still wait in the ring.
        drainCoalesced();
        state = State.PAUSED;
        notifyAll();
        while (pauseRequested && !finishRequested) {
            try {
                wait();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        state = State.RUNNING;
        return !finishRequested;
    }

    /**
     * The CPU time this loop's thread had used in its whole life when its first KVM_RUN returned (its
     * thread CPU clock, which another thread reads the same); -1 before.
     */
    public long cpuAtFirstExit() {
        return cpuAtFirstExit;
    }

    /** The exits this vCPU has handled so far; safe from any thread. */
    public long exits() {
        return (long) EXITS.getOpaque(this);
    }

    /** Waits until the loop is paused (or finished). */
    public synchronized void awaitPaused() throws InterruptedException {
        while (state == State.RUNNING && pauseRequested) {
            wait(100);
            if (state == State.RUNNING) {
                vcpu.kick();
            }
        }
    }

    private void handle(VcpuExit exit) {
        switch (exit) {
            case VcpuExit.IoOut out -> {
                byte[] b = buffer(out.size());
                MemorySegment data = out.data();
                for (int i = 0; i < out.count(); i++) {
                    MemorySegment.copy(data, ValueLayout.JAVA_BYTE, (long) i * b.length, b, 0, b.length);
                    pio.write(out.port(), b);
                }
            }
            case VcpuExit.IoIn in -> {
                byte[] b = buffer(in.size());
                MemorySegment data = in.data();
                for (int i = 0; i < in.count(); i++) {
                    pio.read(in.port(), b);
                    MemorySegment.copy(b, 0, data, ValueLayout.JAVA_BYTE, (long) i * b.length, b.length);
                }
            }
            case VcpuExit.MmioRead read -> {
                byte[] b = buffer(read.length());
                mmio.read(read.address(), b);
                MemorySegment.copy(b, 0, read.data(), ValueLayout.JAVA_BYTE, 0, b.length);
            }
            case VcpuExit.MmioWrite write -> {
                byte[] b = buffer(write.length());
                MemorySegment.copy(write.data(), ValueLayout.JAVA_BYTE, 0, b, 0, b.length);
                mmio.write(write.address(), b);
            }
            case VcpuExit.Interrupted interrupted -> {
                // A kick: the loop condition decides what happens next.
            }
            case VcpuExit.Shutdown shutdown -> owner.stop(new StopReason.Shutdown(index, cpuState()));
            case VcpuExit.Hlt hlt -> owner.stop(new StopReason.InternalError(
                    "vCPU " + index + " halted without an in-kernel interrupt controller"));
            case VcpuExit.SystemEvent event -> owner.stop(switch (event.type()) {
                case VcpuExit.SystemEvent.RESET -> new StopReason.GuestReset();
                case VcpuExit.SystemEvent.SHUTDOWN -> new StopReason.Shutdown(index, cpuState());
                default -> new StopReason.InternalError("vCPU " + index + ": guest crash (system event " + event.type() + ")");
            });
            case VcpuExit.FailEntry fail -> owner.stop(new StopReason.InternalError(String.format(
                    "vCPU %d: VM entry failed, hardware reason 0x%x%s", index, fail.hardwareReason(), where())));
            case VcpuExit.InternalError error -> owner.stop(new StopReason.InternalError(
                    "vCPU " + index + ": KVM internal error, suberror " + error.suberror()
                            + (error.suberror() == VcpuExit.InternalError.EMULATION ? " (instruction emulation failed)" : "")
                            + where()));
            case VcpuExit.Unknown unknown -> owner.stop(new StopReason.InternalError(
                    "vCPU " + index + ": unhandled KVM exit reason " + unknown.reason() + where()));
        }
    }

    private void drainCoalesced() {
        if (coalesced != null) {
            coalesced.drain(replay);
        }
    }

    private void replay(boolean toPort, long address, long data, int length) {
        byte[] b = CoalescedRing.unpack(data, buffer(length));
        if (toPort) {
            pio.write(address, b);
        } else {
            mmio.write(address, b);
        }
    }

    /** Where the guest was, for the one line that explains a dead VM. */
    private String where() {
        try {
            return String.format(" at rip 0x%x", vcpu.regs().rip());
        } catch (RuntimeException e) {
            return "";
        }
    }

    /** The registers that place a triple fault: where, on which stack, in which address space, with what pending. */
    private String cpuState() {
        try {
            Regs r = vcpu.regs();
            Sregs s = vcpu.sregs();
            if (r.rip() == RESET_RIP && (s.cr0() & Sregs.CR0_PE) == 0) {
                // KVM on AMD puts the vCPU through INIT at a shutdown: the guest's registers are gone.
                return "registers lost: the host's KVM reset the vCPU";
            }
            VcpuEvents.Exception e = vcpu.vcpuEvents().exception();
            String pending = e.injected() || e.pending()
                    ? String.format(" exception %d%s", e.nr(), e.hasErrorCode() ? String.format(" error 0x%x", e.errorCode()) : "")
                    : "";
            return String.format("rip 0x%x rsp 0x%x rflags 0x%x cr0 0x%x cr2 0x%x cr3 0x%x cr4 0x%x efer 0x%x%s",
                    r.rip(), r.rsp(), r.rflags(), s.cr0(), s.cr2(), s.cr3(), s.cr4(), s.efer(), pending);
        } catch (RuntimeException ex) {
            return "";
        }
    }

    private byte[] buffer(int width) {
        return switch (width) {
            case 1 -> buffers[0];
            case 2 -> buffers[1];
            case 4 -> buffers[2];
            case 8 -> buffers[3];
            default -> new byte[Math.max(0, Math.min(width, 8))];
        };
    }
}
