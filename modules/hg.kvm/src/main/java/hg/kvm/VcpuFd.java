package hg.kvm;

import hg.kvm.internal.Errno;
import hg.kvm.internal.Ioctls;
import hg.kvm.internal.Layouts;
import hg.kvm.internal.Libc;
import hg.kvm.internal.StructIoctl;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import static hg.kvm.KvmRun.*;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * One vCPU and its mapped kvm_run page. {@link #run()} belongs to one thread at a time (the
 * vCPU's thread, a platform thread); {@link #kick()} may be called from any thread.
 */
public final class VcpuFd implements AutoCloseable {
    private final int fd;
    private final int id;
    private final int xsaveSize;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment run;
    private final MemorySegment runCallState;
    private final AtomicBoolean closed = new AtomicBoolean();

    private final VcpuExit.IoIn ioIn;
    private final VcpuExit.IoOut ioOut;
    private final VcpuExit.MmioRead mmioRead;
    private final VcpuExit.MmioWrite mmioWrite;
    private static final VcpuExit.Hlt HLT = new VcpuExit.Hlt();
    private static final VcpuExit.Shutdown SHUTDOWN = new VcpuExit.Shutdown();
    private static final VcpuExit.Interrupted INTERRUPTED = new VcpuExit.Interrupted();

    /** The thread bound by {@link #bindToCurrentThread()}, null if none. */
    private volatile ThreadKick kicker;

    @SuppressWarnings("restricted") // native memory and downcalls are what hg.kvm is for
    VcpuFd(int fd, int id, int mmapSize, int xsaveSize) {
        this.fd = fd;
        this.id = id;
        this.xsaveSize = xsaveSize;
        long address = Libc.mmap(0, mmapSize, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_SHARED, fd, 0, "kvm_run");
        this.run = MemorySegment.ofAddress(address).reinterpret(mmapSize, arena, s -> Libc.munmap(address, mmapSize));
        this.runCallState = Libc.newCallState(arena);
        this.ioIn = new VcpuExit.IoIn(run);
        this.ioOut = new VcpuExit.IoOut(run);
        this.mmioRead = new VcpuExit.MmioRead(run);
        this.mmioWrite = new VcpuExit.MmioWrite(run);
    }

    public int fd() {
        return fd;
    }

    /** The vCPU id given at creation (its initial APIC id). */
    public int id() {
        return id;
    }

    /**
     * Enters the guest until the next exit. I/O and MMIO exits are views valid until the next
     * call; an interrupted run (kick, signal) returns {@link VcpuExit.Interrupted}.
     */
    public VcpuExit run() {
        int r;
        try {
            r = (int) Libc.IOCTL_LONG.invokeExact(runCallState, fd, Ioctls.KVM_RUN, 0L);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
        if (r < 0) {
            return failedRun(Libc.errno(runCallState));
        }
        int reason = run.get(JAVA_INT, EXIT_REASON);
        if (reason == EXIT_IO) {
            return run.get(JAVA_BYTE, IO_DIRECTION) != 0 ? ioOut : ioIn;
        }
        if (reason == EXIT_MMIO) {
            return run.get(JAVA_BYTE, MMIO_IS_WRITE) != 0 ? mmioWrite : mmioRead;
        }
        return rareExit(reason);
    }

    private VcpuExit failedRun(int errno) {
        if (errno == Errno.EINTR || errno == Errno.EAGAIN) {
            run.set(JAVA_BYTE, IMMEDIATE_EXIT, (byte) 0);
            if (kicker != null) {
                ThreadKick.consumePending();
            }
            return INTERRUPTED;
        }
        throw new KvmException("KVM_RUN", errno);
    }

    private VcpuExit rareExit(int reason) {
        return switch (reason) {
            case EXIT_HLT -> HLT;
            case EXIT_SHUTDOWN -> SHUTDOWN;
            case EXIT_INTR -> INTERRUPTED;
            case EXIT_FAIL_ENTRY -> new VcpuExit.FailEntry(run.get(JAVA_LONG, FAIL_ENTRY_REASON),
                    run.get(JAVA_INT, FAIL_ENTRY_CPU));
            case EXIT_INTERNAL_ERROR -> new VcpuExit.InternalError(run.get(JAVA_INT, INTERNAL_SUBERROR),
                    longs(INTERNAL_DATA, run.get(JAVA_INT, INTERNAL_NDATA)));
            case EXIT_SYSTEM_EVENT -> new VcpuExit.SystemEvent(run.get(JAVA_INT, SYSTEM_EVENT_TYPE),
                    longs(SYSTEM_EVENT_DATA, run.get(JAVA_INT, SYSTEM_EVENT_NDATA)));
            default -> new VcpuExit.Unknown(reason, run.get(JAVA_LONG, HW_EXIT_REASON));
        };
    }

    private long[] longs(long at, int n) {
        int count = Math.max(0, Math.min(16, n));
        long[] out = new long[count];
        for (int i = 0; i < count; i++) {
            out[i] = run.get(JAVA_LONG, at + 8L * i);
        }
        return out;
    }

    /**
     * Makes {@link #kick()} able to interrupt a {@link #run()} that is blocked in the kernel
     * (e.g. a halted guest with an in-kernel irqchip). Call it on the platform thread that will
     * run this vCPU, before running (see {@link ThreadKick}).
     */
    public void bindToCurrentThread() {
        kicker = ThreadKick.bindCurrentThread(this);
    }

    /** KVM_SET_SIGNAL_MASK: the signal mask of the calling thread while the guest runs. */
    void setSignalMask(long mask) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(Layouts.KVM_SIGNAL_MASK.byteSize() + Libc.KERNEL_SIGSET_SIZE, 8);
            s.set(JAVA_INT, 0, Libc.KERNEL_SIGSET_SIZE);
            // sigset follows len directly, at offset 4.
            s.set(JAVA_INT, 4, (int) mask);
            s.set(JAVA_INT, 8, (int) (mask >>> 32));
            Libc.ioctl(fd, Ioctls.KVM_SET_SIGNAL_MASK, s, "KVM_SET_SIGNAL_MASK");
        }
    }

    /**
     * Makes the current or next {@link #run()} return {@link VcpuExit.Interrupted} soon. Safe from
     * any thread; interrupts a run blocked in the kernel only after {@link #bindToCurrentThread()}.
     */
    public void kick() {
        if (closed.get()) {
            return;
        }
        try {
            run.set(JAVA_BYTE, IMMEDIATE_EXIT, (byte) 1);
        } catch (IllegalStateException closedMeanwhile) {
            return;
        }
        VarHandle.fullFence();
        ThreadKick k = kicker;
        if (k != null) {
            k.signal();
        }
    }

    /**
     * Finishes the emulation of the last I/O or MMIO exit (an IN's value goes to the guest's
     * register) without running guest code: KVM_RUN with immediate_exit set completes it and
     * returns at once. Registers read before this could miss that value.
     */
    public void completePendingIo() {
        run.set(JAVA_BYTE, IMMEDIATE_EXIT, (byte) 1);
        VarHandle.fullFence();
        VcpuExit e = run();
        if (!(e instanceof VcpuExit.Interrupted)) {
            throw new KvmException("KVM_RUN", "with immediate_exit set it returned an exit (" + e + ") instead of EINTR");
        }
    }

    /** Forgets the thread bound by {@link #bindToCurrentThread()} (call it before that thread ends). */
    public void unbindThread() {
        kicker = null;
    }

    /** Whether immediate_exit is set (a kick is pending). */
    public boolean kickPending() {
        return run.get(JAVA_BYTE, IMMEDIATE_EXIT) != 0;
    }

    // ---- registers and state

    public Regs regs() {
        return StructIoctl.get(fd, Layouts.KVM_REGS, Ioctls.KVM_GET_REGS, "KVM_GET_REGS", Structs::readRegs);
    }

    public void setRegs(Regs regs) {
        StructIoctl.set(fd, Layouts.KVM_REGS, Ioctls.KVM_SET_REGS, "KVM_SET_REGS", s -> Structs.writeRegs(s, regs));
    }

    public Sregs sregs() {
        return StructIoctl.get(fd, Layouts.KVM_SREGS, Ioctls.KVM_GET_SREGS, "KVM_GET_SREGS", Structs::readSregs);
    }

    public void setSregs(Sregs sregs) {
        StructIoctl.set(fd, Layouts.KVM_SREGS, Ioctls.KVM_SET_SREGS, "KVM_SET_SREGS", s -> Structs.writeSregs(s, sregs));
    }

    /**
     * Sets the special registers of {@code image} but for the APIC base and the pending-interrupt bitmap,
     * which stay this vCPU's own (a new vCPU's: the BSP flag in the one, nothing pending in the other).
     */
    public void setSregsKeepingApic(SregsImage image) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(Layouts.KVM_SREGS);
            Libc.ioctl(fd, Ioctls.KVM_GET_SREGS, s, "KVM_GET_SREGS");
            s.copyFrom(image.keptBefore());
            Libc.ioctl(fd, Ioctls.KVM_SET_SREGS, s, "KVM_SET_SREGS");
        }
    }

    public Fpu fpu() {
        return StructIoctl.get(fd, Layouts.KVM_FPU, Ioctls.KVM_GET_FPU, "KVM_GET_FPU", Structs::readFpu);
    }

    public void setFpu(Fpu fpu) {
        StructIoctl.set(fd, Layouts.KVM_FPU, Ioctls.KVM_SET_FPU, "KVM_SET_FPU", s -> Structs.writeFpu(s, fpu));
    }

    /** KVM refuses KVM_GET_MSRS and KVM_SET_MSRS batches of 256 or more (MAX_IO_MSRS). */
    private static final int MSR_BATCH = 255;

    /** Reads the given MSRs; fails naming the first index KVM would not read. */
    public List<MsrEntry> msrs(int... indices) {
        List<MsrEntry> read = msrsUntilRefused(indices);
        if (read.size() != indices.length) {
            throw new KvmException("KVM_GET_MSRS", String.format("MSR 0x%x is not supported", indices[read.size()]));
        }
        return read;
    }

    /**
     * Reads the given MSRs in order until KVM refuses one (KVM_GET_MSRS stops there); returns
     * those read, a prefix of {@code indices}.
     */
    public List<MsrEntry> msrsUntilRefused(int... indices) {
        long entry = Layouts.KVM_MSR_ENTRY.byteSize();
        List<MsrEntry> out = new ArrayList<>(indices.length);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(Layouts.KVM_MSRS.byteSize() + entry * MSR_BATCH, 8);
            for (int from = 0; from < indices.length; from += MSR_BATCH) {
                int n = Math.min(MSR_BATCH, indices.length - from);
                s.set(JAVA_INT, 0, n);
                for (int i = 0; i < n; i++) {
                    s.set(JAVA_INT, 8 + entry * i, indices[from + i]);
                    s.set(JAVA_INT, 12 + entry * i, 0);
                    s.set(JAVA_LONG, 16 + entry * i, 0L);
                }
                int read = Libc.ioctl(fd, Ioctls.KVM_GET_MSRS, s, "KVM_GET_MSRS");
                for (int i = 0; i < read; i++) {
                    out.add(new MsrEntry(s.get(JAVA_INT, 8 + entry * i), s.get(JAVA_LONG, 16 + entry * i)));
                }
                if (read != n) {
                    break;
                }
            }
        }
        return List.copyOf(out);
    }

    /** Writes the given MSRs; fails naming the first one KVM refused. */
    public void setMsrs(List<MsrEntry> msrs) {
        int written = setMsrsUntilRefused(msrs);
        if (written != msrs.size()) {
            throw new KvmException("KVM_SET_MSRS", String.format("MSR 0x%x was refused", msrs.get(written).index()));
        }
    }

    /** Writes the given MSRs in order until KVM refuses one; returns how many it took. */
    public int setMsrsUntilRefused(List<MsrEntry> msrs) {
        long entry = Layouts.KVM_MSR_ENTRY.byteSize();
        int total = 0;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(Layouts.KVM_MSRS.byteSize() + entry * MSR_BATCH, 8);
            for (int from = 0; from < msrs.size(); from += MSR_BATCH) {
                int n = Math.min(MSR_BATCH, msrs.size() - from);
                s.set(JAVA_INT, 0, n);
                for (int i = 0; i < n; i++) {
                    s.set(JAVA_INT, 8 + entry * i, msrs.get(from + i).index());
                    s.set(JAVA_INT, 12 + entry * i, 0);
                    s.set(JAVA_LONG, 16 + entry * i, msrs.get(from + i).data());
                }
                int written = Libc.ioctl(fd, Ioctls.KVM_SET_MSRS, s, "KVM_SET_MSRS");
                total += written;
                if (written != n) {
                    break;
                }
            }
        }
        return total;
    }

    /** Sets what CPUID answers in the guest (usually {@link Kvm#supportedCpuid()}, adjusted). */
    public void setCpuid(List<CpuidEntry> entries) {
        setCpuid(CpuidTable.of(entries));
    }

    /** {@link #setCpuid(List)} for a list already laid out: one copy, however many vCPUs share it. */
    public void setCpuid(CpuidTable table) {
        MemorySegment struct = table.struct();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(struct.byteSize(), 8);
            s.copyFrom(struct);
            Libc.ioctl(fd, Ioctls.KVM_SET_CPUID2, s, "KVM_SET_CPUID2");
        }
    }

    /**
     * The VM's coalesced ring, seen through this vCPU's mapping (valid while this vCPU is open). Only where
     * {@link Kvm#coalescedPio()} says KVM has one.
     */
    public CoalescedRing coalescedRing() {
        return new CoalescedRing(run.asSlice((long) CoalescedRing.PAGE_OFFSET * 4096, 4096));
    }

    /** What CPUID answers in the guest (KVM_GET_CPUID2). */
    public List<CpuidEntry> cpuid() {
        return Kvm.readCpuid2(fd, Ioctls.KVM_GET_CPUID2, "KVM_GET_CPUID2");
    }

    /** The local APIC registers (needs the in-kernel irqchip). */
    public LapicState lapic() {
        return StructIoctl.get(fd, Layouts.KVM_LAPIC_STATE, Ioctls.KVM_GET_LAPIC, "KVM_GET_LAPIC", s -> new LapicState(s.toArray(JAVA_BYTE)));
    }

    public void setLapic(LapicState state) {
        StructIoctl.set(fd, Layouts.KVM_LAPIC_STATE, Ioctls.KVM_SET_LAPIC, "KVM_SET_LAPIC", s -> MemorySegment.copy(MemorySegment.ofArray(state.regs()), 0, s, 0, LapicState.SIZE));
    }

    /** KVM_MP_STATE_RUNNABLE and friends. */
    public static final int MP_STATE_RUNNABLE = 0;
    public static final int MP_STATE_UNINITIALIZED = 1;
    public static final int MP_STATE_INIT_RECEIVED = 2;
    public static final int MP_STATE_HALTED = 3;
    public static final int MP_STATE_SIPI_RECEIVED = 4;

    public int mpState() {
        return StructIoctl.get(fd, Layouts.KVM_MP_STATE, Ioctls.KVM_GET_MP_STATE, "KVM_GET_MP_STATE", s -> s.get(JAVA_INT, 0));
    }

    public void setMpState(int state) {
        StructIoctl.set(fd, Layouts.KVM_MP_STATE, Ioctls.KVM_SET_MP_STATE, "KVM_SET_MP_STATE", s -> s.set(JAVA_INT, 0, state));
    }

    /** The extended control registers (needs {@link KvmCap#XCRS}). */
    public List<Xcr> xcrs() {
        long xcrs = Layouts.offset(Layouts.KVM_XCRS, "xcrs");
        long size = Layouts.KVM_XCR.byteSize();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(Layouts.KVM_XCRS);
            Libc.ioctl(fd, Ioctls.KVM_GET_XCRS, s, "KVM_GET_XCRS");
            int n = Math.min(16, s.get(JAVA_INT, 0));
            List<Xcr> out = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                out.add(new Xcr(s.get(JAVA_INT, xcrs + size * i), s.get(JAVA_LONG, xcrs + size * i + 8)));
            }
            return List.copyOf(out);
        }
    }

    public void setXcrs(List<Xcr> values) {
        if (values.size() > 16) {
            throw new IllegalArgumentException("at most 16 XCRs, not " + values.size());
        }
        long xcrs = Layouts.offset(Layouts.KVM_XCRS, "xcrs");
        long size = Layouts.KVM_XCR.byteSize();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(Layouts.KVM_XCRS);
            s.set(JAVA_INT, 0, values.size());
            for (int i = 0; i < values.size(); i++) {
                s.set(JAVA_INT, xcrs + size * i, values.get(i).xcr());
                s.set(JAVA_LONG, xcrs + size * i + 8, values.get(i).value());
            }
            Libc.ioctl(fd, Ioctls.KVM_SET_XCRS, s, "KVM_SET_XCRS");
        }
    }

    public VcpuEvents vcpuEvents() {
        return StructIoctl.get(fd, Layouts.KVM_VCPU_EVENTS, Ioctls.KVM_GET_VCPU_EVENTS, "KVM_GET_VCPU_EVENTS", Structs::readEvents);
    }

    public void setVcpuEvents(VcpuEvents events) {
        StructIoctl.set(fd, Layouts.KVM_VCPU_EVENTS, Ioctls.KVM_SET_VCPU_EVENTS, "KVM_SET_VCPU_EVENTS", s -> Structs.writeEvents(s, events));
    }

    /**
     * The XSAVE area (x87, SSE, AVX and whatever else XCR0 may enable). Sized by the VM's
     * KVM_CAP_XSAVE2 answer: KVM_GET_XSAVE refuses vCPUs whose area outgrew 4096 bytes.
     */
    public Xsave xsave() {
        boolean big = xsaveSize > Xsave.LEGACY_SIZE;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(xsaveSize, 8);
            Libc.ioctl(fd, big ? Ioctls.KVM_GET_XSAVE2 : Ioctls.KVM_GET_XSAVE, s, big ? "KVM_GET_XSAVE2" : "KVM_GET_XSAVE");
            return new Xsave(s.toArray(JAVA_BYTE));
        }
    }

    /**
     * KVM_SET_XSAVE reads as many bytes as this vCPU's area has, whatever the region's length:
     * a shorter region is zero-padded (components past it read as in their initial state), a
     * longer one must have nothing but zeros past that size.
     */
    public void setXsave(Xsave xsave) {
        byte[] region = xsave.region();
        for (int i = xsaveSize; i < region.length; i++) {
            if (region[i] != 0) {
                throw new IllegalArgumentException("xsave region of " + region.length
                        + " bytes has state past the " + xsaveSize + " bytes this vCPU has");
            }
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(xsaveSize, 8);
            MemorySegment.copy(MemorySegment.ofArray(region), 0, s, 0, Math.min(region.length, xsaveSize));
            Libc.ioctl(fd, Ioctls.KVM_SET_XSAVE, s, "KVM_SET_XSAVE");
        }
    }

    public DebugRegs debugRegs() {
        var l = Layouts.KVM_DEBUGREGS;
        return StructIoctl.get(fd, l, Ioctls.KVM_GET_DEBUGREGS, "KVM_GET_DEBUGREGS", s -> new DebugRegs(
                s.asSlice(Layouts.offset(l, "db"), 32).toArray(JAVA_LONG), s.get(JAVA_LONG, Layouts.offset(l, "dr6")),
                s.get(JAVA_LONG, Layouts.offset(l, "dr7")), s.get(JAVA_LONG, Layouts.offset(l, "flags"))));
    }

    /** KVM_SET_DEBUGREGS: KVM refuses a non-zero flags word and DR6/DR7 with bits 63..32 set. */
    public void setDebugRegs(DebugRegs regs) {
        var l = Layouts.KVM_DEBUGREGS;
        StructIoctl.set(fd, l, Ioctls.KVM_SET_DEBUGREGS, "KVM_SET_DEBUGREGS", s -> {
            MemorySegment.copy(MemorySegment.ofArray(regs.db()), 0, s, Layouts.offset(l, "db"), 32);
            s.set(JAVA_LONG, Layouts.offset(l, "dr6"), regs.dr6());
            s.set(JAVA_LONG, Layouts.offset(l, "dr7"), regs.dr7());
            s.set(JAVA_LONG, Layouts.offset(l, "flags"), regs.flags());
        });
    }

    /**
     * KVM_SET_TSC_KHZ: the guest's TSC frequency (needs {@link KvmCap#TSC_CONTROL}). Only needed
     * to restore a vCPU on a host whose TSC runs at another rate.
     */
    public void setTscKhz(int khz) {
        Libc.ioctl(fd, Ioctls.KVM_SET_TSC_KHZ, khz, "KVM_SET_TSC_KHZ");
    }

    /**
     * Tells the guest (through its kvmclock page) that the host stopped it, so its soft-lockup
     * watchdog does not take the stop for a hang. False when the guest has no kvmclock (EINVAL).
     */
    public boolean markStopped() {
        try {
            Libc.ioctl(fd, Ioctls.KVM_KVMCLOCK_CTRL, 0L, "KVM_KVMCLOCK_CTRL");
            return true;
        } catch (KvmException e) {
            if (e.errno() == Errno.EINVAL) {
                return false;
            }
            throw e;
        }
    }

    /** The guest's TSC frequency in kHz (KVM_GET_TSC_KHZ). */
    public int tscKhz() {
        return Libc.ioctl(fd, Ioctls.KVM_GET_TSC_KHZ, 0L, "KVM_GET_TSC_KHZ");
    }

    /** Queues external interrupt {@code vector} (only without an in-kernel irqchip). */
    public void interrupt(int vector) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(Layouts.KVM_INTERRUPT);
            s.set(JAVA_INT, 0, vector);
            Libc.ioctl(fd, Ioctls.KVM_INTERRUPT, s, "KVM_INTERRUPT");
        }
    }

    /** Whether the guest can take an interrupt now (kvm_run's ready_for_interrupt_injection). */
    public boolean readyForInterruptInjection() {
        return run.get(JAVA_BYTE, Layouts.offset(Layouts.KVM_RUN, "ready_for_interrupt_injection")) != 0;
    }

    /** Asks KVM to exit with an interrupt window as soon as the guest can take an interrupt. */
    public void requestInterruptWindow(boolean request) {
        run.set(JAVA_BYTE, Layouts.offset(Layouts.KVM_RUN, "request_interrupt_window"), (byte) (request ? 1 : 0));
    }

    /** Unmaps kvm_run and closes the vCPU fd. Must not race with {@link #run()}. Idempotent. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            kicker = null;
            arena.close();
            Libc.close(fd);
        }
    }
}
