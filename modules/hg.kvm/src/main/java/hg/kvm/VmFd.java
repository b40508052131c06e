package hg.kvm;

import hg.kvm.sys.EventFd;
import hg.kvm.internal.Ioctls;
import hg.kvm.internal.Layouts;
import hg.kvm.internal.Libc;
import hg.kvm.internal.StructIoctl;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * One VM. Closing it closes the vCPUs created through it that are still open; the guest memory
 * it uses belongs to the caller and is unmapped by {@link GuestMemory#close()} afterwards.
 */
public final class VmFd implements AutoCloseable {
    /** KVM_PIT_SPEAKER_DUMMY: the PIT answers port 0x61 itself. */
    public static final int PIT_SPEAKER_DUMMY = 1;

    private static final int IRQFD_FLAG_DEASSIGN = 1;
    private static final int IOEVENTFD_FLAG_DATAMATCH = 1;
    private static final int IOEVENTFD_FLAG_PIO = 2;
    private static final int IOEVENTFD_FLAG_DEASSIGN = 4;

    /** Which address space an ioeventfd watches. */
    public enum IoSpace { PIO, MMIO }

    private final int fd;
    private final int vcpuMmapSize;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final List<VcpuFd> vcpus = new ArrayList<>();
    private int nextSlot;
    private volatile int xsaveSize;

    VmFd(int fd, int vcpuMmapSize) {
        this.fd = fd;
        this.vcpuMmapSize = vcpuMmapSize;
    }

    public int fd() {
        return fd;
    }

    /** Capability check on this VM (some answers differ per VM type). */
    public int checkExtension(int capability) {
        return Libc.ioctl(fd, Ioctls.KVM_CHECK_EXTENSION, capability, "KVM_CHECK_EXTENSION");
    }

    /** Creates, moves, resizes or (size 0) deletes a memory slot. */
    public void setUserMemoryRegion(MemoryRegion region) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(Layouts.KVM_USERSPACE_MEMORY_REGION);
            s.set(JAVA_INT, Layouts.offset(Layouts.KVM_USERSPACE_MEMORY_REGION, "slot"), region.slot());
            s.set(JAVA_INT, Layouts.offset(Layouts.KVM_USERSPACE_MEMORY_REGION, "flags"), region.flags());
            s.set(JAVA_LONG, Layouts.offset(Layouts.KVM_USERSPACE_MEMORY_REGION, "guest_phys_addr"),
                    region.guestPhysicalAddress());
            s.set(JAVA_LONG, Layouts.offset(Layouts.KVM_USERSPACE_MEMORY_REGION, "memory_size"), region.size());
            s.set(JAVA_LONG, Layouts.offset(Layouts.KVM_USERSPACE_MEMORY_REGION, "userspace_addr"),
                    region.userspaceAddress());
            Libc.ioctl(fd, Ioctls.KVM_SET_USER_MEMORY_REGION, s, "KVM_SET_USER_MEMORY_REGION");
        }
    }

    /** Registers every region of {@code memory} as its own memory slot; returns the slots. */
    public synchronized List<MemoryRegion> registerMemory(GuestMemory memory) {
        List<MemoryRegion> slots = new ArrayList<>();
        for (GuestMemory.Region r : memory.regions()) {
            MemoryRegion slot = new MemoryRegion(nextSlot, 0, r.guestAddress(), r.size(), r.host().address());
            setUserMemoryRegion(slot);
            nextSlot++;
            slots.add(slot);
        }
        return List.copyOf(slots);
    }

    /** Three pages of guest-physical space KVM needs on Intel for real mode (below 4 GiB, no RAM). */
    public void setTssAddress(long address) {
        Libc.ioctl(fd, Ioctls.KVM_SET_TSS_ADDR, address, "KVM_SET_TSS_ADDR");
    }

    /** One page of guest-physical space for the identity map KVM needs on Intel for real mode. */
    public void setIdentityMapAddress(long address) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(JAVA_LONG);
            s.set(JAVA_LONG, 0, address);
            Libc.ioctl(fd, Ioctls.KVM_SET_IDENTITY_MAP_ADDR, s, "KVM_SET_IDENTITY_MAP_ADDR");
        }
    }

    /** Creates the in-kernel PIC pair, IOAPIC and per-vCPU local APICs (before any vCPU). */
    public void createIrqchip() {
        Libc.ioctl(fd, Ioctls.KVM_CREATE_IRQCHIP, 0L, "KVM_CREATE_IRQCHIP");
    }

    /** Creates the in-kernel i8254 PIT; {@code flags} may be {@link #PIT_SPEAKER_DUMMY}. */
    public void createPit2(int flags) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(Layouts.KVM_PIT_CONFIG);
            s.set(JAVA_INT, 0, flags);
            Libc.ioctl(fd, Ioctls.KVM_CREATE_PIT2, s, "KVM_CREATE_PIT2");
        }
    }

    /** Drives in-kernel irqchip input {@code irq} (GSI) high or low. */
    public void irqLine(int irq, boolean high) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(Layouts.KVM_IRQ_LEVEL);
            s.set(JAVA_INT, Layouts.offset(Layouts.KVM_IRQ_LEVEL, "irq"), irq);
            s.set(JAVA_INT, Layouts.offset(Layouts.KVM_IRQ_LEVEL, "level"), high ? 1 : 0);
            Libc.ioctl(fd, Ioctls.KVM_IRQ_LINE, s, "KVM_IRQ_LINE");
        }
    }

    /**
     * Replaces the whole GSI routing table (KVM_SET_GSI_ROUTING): which irqchip pins or MSI
     * messages each GSI drives. The irqchip starts with GSI n on PIC/IOAPIC pin n.
     */
    public void setGsiRouting(List<IrqRoute> routes) {
        long header = Layouts.KVM_IRQ_ROUTING.byteSize();
        long size = Layouts.KVM_IRQ_ROUTING_ENTRY.byteSize();
        var e = Layouts.KVM_IRQ_ROUTING_ENTRY;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(header + size * routes.size(), 8);
            s.set(JAVA_INT, 0, routes.size());
            for (int i = 0; i < routes.size(); i++) {
                long at = header + size * i;
                IrqRoute r = routes.get(i);
                s.set(JAVA_INT, at + Layouts.offset(e, "gsi"), r.gsi());
                switch (r) {
                    case IrqRoute.Irqchip c -> {
                        s.set(JAVA_INT, at + Layouts.offset(e, "type"), IrqRoute.TYPE_IRQCHIP);
                        s.set(JAVA_INT, at + Layouts.offset(e, "u", "irqchip", "irqchip"), c.chip().id());
                        s.set(JAVA_INT, at + Layouts.offset(e, "u", "irqchip", "pin"), c.pin());
                    }
                    case IrqRoute.Msi m -> {
                        s.set(JAVA_INT, at + Layouts.offset(e, "type"), IrqRoute.TYPE_MSI);
                        s.set(JAVA_INT, at + Layouts.offset(e, "u", "msi", "address_lo"), (int) m.address());
                        s.set(JAVA_INT, at + Layouts.offset(e, "u", "msi", "address_hi"), (int) (m.address() >>> 32));
                        s.set(JAVA_INT, at + Layouts.offset(e, "u", "msi", "data"), m.data());
                    }
                }
            }
            Libc.ioctl(fd, Ioctls.KVM_SET_GSI_ROUTING, s, "KVM_SET_GSI_ROUTING");
        }
    }

    /**
     * Makes the guest's writes to ports {@code [port, port + size)} go into the VM's {@link CoalescedRing} rather
     * than exit (reads still exit). Needs {@link Kvm#coalescedPio()}.
     */
    public void registerCoalescedPio(long port, int size) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(Layouts.KVM_COALESCED_MMIO_ZONE);
            s.set(JAVA_LONG, Layouts.offset(Layouts.KVM_COALESCED_MMIO_ZONE, "addr"), port);
            s.set(JAVA_INT, Layouts.offset(Layouts.KVM_COALESCED_MMIO_ZONE, "size"), size);
            s.set(JAVA_INT, Layouts.offset(Layouts.KVM_COALESCED_MMIO_ZONE, "pio"), 1);
            Libc.ioctl(fd, Ioctls.KVM_REGISTER_COALESCED_MMIO, s, "KVM_REGISTER_COALESCED_MMIO");
        }
    }

    /** Each write to {@code eventFd} raises edge-triggered interrupt {@code gsi}. */
    public void registerIrqfd(EventFd eventFd, int gsi) {
        irqfd(eventFd, gsi, 0, "KVM_IRQFD");
    }

    public void unregisterIrqfd(EventFd eventFd, int gsi) {
        irqfd(eventFd, gsi, IRQFD_FLAG_DEASSIGN, "KVM_IRQFD (deassign)");
    }

    private void irqfd(EventFd eventFd, int gsi, int flags, String name) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(Layouts.KVM_IRQFD);
            s.set(JAVA_INT, Layouts.offset(Layouts.KVM_IRQFD, "fd"), eventFd.fd());
            s.set(JAVA_INT, Layouts.offset(Layouts.KVM_IRQFD, "gsi"), gsi);
            s.set(JAVA_INT, Layouts.offset(Layouts.KVM_IRQFD, "flags"), flags);
            Libc.ioctl(fd, Ioctls.KVM_IRQFD, s, name);
        }
    }

    /**
     * Guest writes of {@code length} bytes (1, 2, 4 or 8; 0 = any) to {@code address} signal
     * {@code eventFd} inside the kernel instead of exiting; with {@code datamatch} only writes of
     * that value do.
     */
    public void registerIoeventfd(EventFd eventFd, IoSpace space, long address, int length, Long datamatch) {
        ioeventfd(eventFd, space, address, length, datamatch, 0, "KVM_IOEVENTFD");
    }

    public void unregisterIoeventfd(EventFd eventFd, IoSpace space, long address, int length, Long datamatch) {
        ioeventfd(eventFd, space, address, length, datamatch, IOEVENTFD_FLAG_DEASSIGN, "KVM_IOEVENTFD (deassign)");
    }

    private void ioeventfd(EventFd eventFd, IoSpace space, long address, int length, Long datamatch, int flags,
                           String name) {
        if (length != 0 && length != 1 && length != 2 && length != 4 && length != 8) {
            throw new IllegalArgumentException("ioeventfd length must be 0, 1, 2, 4 or 8, not " + length);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(Layouts.KVM_IOEVENTFD);
            int f = flags | (space == IoSpace.PIO ? IOEVENTFD_FLAG_PIO : 0);
            if (datamatch != null) {
                f |= IOEVENTFD_FLAG_DATAMATCH;
                s.set(JAVA_LONG, Layouts.offset(Layouts.KVM_IOEVENTFD, "datamatch"), datamatch);
            }
            s.set(JAVA_LONG, Layouts.offset(Layouts.KVM_IOEVENTFD, "addr"), address);
            s.set(JAVA_INT, Layouts.offset(Layouts.KVM_IOEVENTFD, "len"), length);
            s.set(JAVA_INT, Layouts.offset(Layouts.KVM_IOEVENTFD, "fd"), eventFd.fd());
            s.set(JAVA_INT, Layouts.offset(Layouts.KVM_IOEVENTFD, "flags"), f);
            Libc.ioctl(fd, Ioctls.KVM_IOEVENTFD, s, name);
        }
    }

    public ClockData clock() {
        return StructIoctl.get(fd, Layouts.KVM_CLOCK_DATA, Ioctls.KVM_GET_CLOCK, "KVM_GET_CLOCK", Structs::readClock);
    }

    /**
     * Sets the kvmclock to {@link ClockData#clock()}; with {@link ClockData#FLAG_REALTIME} KVM
     * first adds the host wall time elapsed since {@link ClockData#realtime()} (never less). The
     * flags KVM_GET_CLOCK reports only (TSC_STABLE, HOST_TSC) are dropped: KVM_SET_CLOCK uses none
     * of them, and kernels before 5.16 refuse any flag at all.
     */
    public void setClock(ClockData clock) {
        boolean realtime = (clock.flags() & ClockData.FLAG_REALTIME) != 0;
        ClockData in = new ClockData(clock.clock(), realtime ? ClockData.FLAG_REALTIME : 0,
                realtime ? clock.realtime() : 0, 0);
        StructIoctl.set(fd, Layouts.KVM_CLOCK_DATA, Ioctls.KVM_SET_CLOCK, "KVM_SET_CLOCK", s -> Structs.writeClock(s, in));
    }

    /** One in-kernel interrupt controller's state (see {@link IrqchipState}; needs {@link #createIrqchip()}). */
    public IrqchipState irqchip(int chipId) {
        IrqchipState.checkChipId(chipId);
        long data = Layouts.offset(Layouts.KVM_IRQCHIP, "chip");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(Layouts.KVM_IRQCHIP);
            s.set(JAVA_INT, Layouts.offset(Layouts.KVM_IRQCHIP, "chip_id"), chipId);
            Libc.ioctl(fd, Ioctls.KVM_GET_IRQCHIP, s, "KVM_GET_IRQCHIP");
            return new IrqchipState(chipId, s.asSlice(data, IrqchipState.DATA_SIZE).toArray(JAVA_BYTE));
        }
    }

    public void setIrqchip(IrqchipState state) {
        long data = Layouts.offset(Layouts.KVM_IRQCHIP, "chip");
        StructIoctl.set(fd, Layouts.KVM_IRQCHIP, Ioctls.KVM_SET_IRQCHIP, "KVM_SET_IRQCHIP", s -> {
            s.set(JAVA_INT, Layouts.offset(Layouts.KVM_IRQCHIP, "chip_id"), state.chipId());
            MemorySegment.copy(MemorySegment.ofArray(state.data()), 0, s, data, IrqchipState.DATA_SIZE);
        });
    }

    /** The in-kernel PIT's state (needs {@link #createPit2(int)}). */
    public PitState pit() {
        return StructIoctl.get(fd, Layouts.KVM_PIT_STATE2, Ioctls.KVM_GET_PIT2, "KVM_GET_PIT2",
                s -> new PitState(s.toArray(JAVA_BYTE)));
    }

    /**
     * Restores the PIT. KVM restarts channel 0's timer from its count and mode; count_load_time
     * is not taken over, so the period restarts at the call.
     */
    public void setPit(PitState state) {
        StructIoctl.set(fd, Layouts.KVM_PIT_STATE2, Ioctls.KVM_SET_PIT2, "KVM_SET_PIT2",
                s -> MemorySegment.copy(MemorySegment.ofArray(state.raw()), 0, s, 0, PitState.SIZE));
    }

    /**
     * Bytes of struct kvm_xsave this VM's vCPUs use: KVM_CAP_XSAVE2's answer when above 4096
     * (dynamic features such as AMX make it larger), else 4096.
     */
    public int xsaveSize() {
        int size = xsaveSize;
        if (size == 0) {
            int cap = checkExtension(KvmCap.XSAVE2);
            size = Math.max(cap, Xsave.LEGACY_SIZE);
            xsaveSize = size;
        }
        return size;
    }

    /** Creates vCPU {@code id} (its APIC id) and maps its kvm_run page. */
    public synchronized VcpuFd createVcpu(int id) {
        if (closed.get()) {
            throw new IllegalStateException("VM is closed");
        }
        int vcpuFd = Libc.ioctl(fd, Ioctls.KVM_CREATE_VCPU, id, "KVM_CREATE_VCPU");
        VcpuFd vcpu;
        try {
            vcpu = new VcpuFd(vcpuFd, id, vcpuMmapSize, xsaveSize());
        } catch (RuntimeException e) {
            Libc.close(vcpuFd);
            throw e;
        }
        vcpus.add(vcpu);
        return vcpu;
    }

    /** Closes the vCPUs made here that are still open, then the VM fd. Idempotent. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        List<VcpuFd> open;
        synchronized (this) {
            open = new ArrayList<>(vcpus);
            vcpus.clear();
        }
        for (VcpuFd v : open) {
            v.close();
        }
        Libc.close(fd);
    }
}
