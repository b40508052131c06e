package hg.vmm;

import hg.boot.BootConfig;
import hg.boot.BootException;
import hg.boot.BootSetup;
import hg.boot.InitrdLoader;
import hg.boot.InitrdPlacement;
import hg.boot.KernelLoader;
import hg.boot.LinuxBoot;
import hg.boot.LoadedKernel;
import hg.boot.X86Layout;
import hg.kvm.sys.EventFd;
import hg.kvm.GuestMemory;
import hg.kvm.Kvm;
import hg.kvm.KvmCap;
import hg.kvm.KvmCheck;
import hg.kvm.KvmException;
import hg.kvm.LapicState;
import hg.kvm.VcpuFd;
import hg.kvm.net.VhostNet;
import hg.kvm.VmFd;
import hg.vmm.internal.virtio.net.vhost.AckIoeventfd;
import hg.vmm.internal.cpu.BootState;
import hg.vmm.internal.pseudo.BootTimer;
import hg.vmm.internal.bus.Bus;
import hg.vmm.internal.io.ConsoleBuffer;
import hg.vmm.internal.cpu.CpuidSetup;
import hg.vmm.internal.pseudo.DebugExitPort;
import hg.vmm.internal.virtio.block.DiskImage;
import hg.vmm.internal.virtio.net.GuestNetConfig;
import hg.vmm.internal.virtio.net.NetSlot;
import hg.vmm.internal.legacy.I8042;
import hg.vmm.internal.bus.InterruptTrigger;
import hg.vmm.internal.io.IoLoop;
import hg.vmm.internal.legacy.Serial16550;
import hg.vmm.internal.virtio.net.TapBackend;
import hg.vmm.internal.virtio.net.TapNetwork;
import hg.vmm.internal.cpu.VcpuLoop;
import hg.vmm.internal.virtio.net.vhost.VhostNetPath;
import hg.vmm.internal.virtio.block.VirtioBlock;
import hg.vmm.internal.virtio.VirtioDevice;
import hg.vmm.internal.virtio.VirtioMmioTransport;
import hg.vmm.internal.virtio.net.VirtioNet;
import hg.vmm.internal.virtio.rng.VirtioRng;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One virtual machine: guest memory, vCPU threads, the port and MMIO buses with the UART,
 * i8042, debug exit port and a virtio-blk disk, and an I/O thread serving the disk's
 * queue notifications. Made by {@link #create}, ended by {@link #destroy()} or by the
 * guest (reset, triple fault, debug exit), after which it releases everything by itself
 * and keeps only its final state and console history.
 */
public final class Vm {

    /** First virtio-mmio device; devices follow every 4 KiB. In the MMIO hole below 4 GiB. */
    public static final long VIRTIO_MMIO_BASE = 0xd000_0000L;
    /** The first virtio device's interrupt line (ISA lines 5, 6, 7, ... are free on this machine). */
    public static final int VIRTIO_FIRST_IRQ = 5;
    /** KVM's TSS and identity-map pages (Intel needs them), just below the BIOS area at the top of 4 GiB. */
    static final long TSS_ADDRESS = 0xfffb_d000L;
    static final long IDENTITY_MAP_ADDRESS = 0xfffb_c000L;
    /** What Linux needs to find its console, disk and reboot path here; no PCI, no ACPI tables. */
    // hg_boot_marker reaches the guest's init as an environment variable; hyper-gen's default
    // rootfs writes to that address first thing, which bootMarks() records as "init reached".
    public static final String BASE_CMDLINE =
            "console=ttyS0 reboot=k panic=1 pci=off nomodules i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd"
                    + " hg_boot_marker=0x" + Long.toHexString(BootTimer.ADDRESS);

    private static final System.Logger LOG = System.getLogger("hg.vmm");

    private final int id;
    private final VmConfig config;
    private final Instant started = Instant.now();
    private final BootTimer bootTimer = new BootTimer(System.nanoTime());
    private final ConsoleBuffer console = new ConsoleBuffer();
    private final Deque<AutoCloseable> resources = new ArrayDeque<>();
    private final List<VcpuLoop> loops = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();
    private final CountDownLatch released = new CountDownLatch(1);
    private final Object stateLock = new Object();
    private volatile VmState state = new VmState.Running();
    private volatile Instant stoppedAt;
    private String cmdline = "";
    private boolean tearingDown;
    private VirtioMmioTransport disk;
    private NetCard net;
    private IoLoop io;
    private Serial16550 serial;
    /** Set before the eventfds close: a trigger must never write to a closed (maybe reused) fd number. */
    private volatile boolean closing;

    private Vm(int id, VmConfig config) {
        this.id = id;
        this.config = config;
    }

    /**
     * Builds and starts a VM. On any failure everything made so far is released and one
     * {@link VmException} names the problem (missing file, not a kernel, busy image, KVM error).
     */
    public static Vm create(Kvm kvm, int id, VmConfig config) {
        return create(kvm, kvm.supportedCpuid(), id, config);
    }

    /** {@link #create(Kvm, int, VmConfig)} with KVM's supported CPUID already read (it is the same for every VM). */
    public static Vm create(Kvm kvm, List<hg.kvm.CpuidEntry> supportedCpuid, int id, VmConfig config) {
        Vm vm = new Vm(id, config);
        try {
            vm.build(kvm, supportedCpuid);
            vm.startThreads();
            return vm;
        } catch (RuntimeException | Error e) {
            vm.state = new VmState.Stopped(new StopReason.InternalError("creation failed"));
            vm.finishRelease();
            if (e instanceof VmException ve) {
                throw ve;
            }
            if (e instanceof KvmException ke) {
                throw new VmException("KVM refused to create the VM: " + ke.getMessage(), ke);
            }
            throw e;
        }
    }

    private void build(Kvm kvm, List<hg.kvm.CpuidEntry> supported) {
        requireFile(config.kernel(), "kernel");
        config.initrd().ifPresent(p -> requireFile(p, "initrd"));
        // The disk first: a busy image must fail before anything else is made.
        DiskImage image = config.image().map(p -> DiskImage.open(p, config.readOnly())).orElse(null);
        VirtioBlock block = null;
        if (image != null) {
            resources.push(image);
            try {
                block = new VirtioBlock(image, "hg-vm" + id);
            } catch (IOException e) {
                throw new VmException("cannot read disk image " + image.path() + ": " + e.getMessage(), e);
            }
        }

        List<GuestMemory.Range> ranges;
        try {
            ranges = X86Layout.ramRanges(config.memoryBytes());
        } catch (BootException e) {
            throw new VmException("memory size " + config.memoryBytes() + ": " + e.getMessage(), e);
        }
        GuestMemory memory = GuestMemory.map(ranges);
        resources.push(memory);

        VmFd vmFd = kvm.createVm();
        resources.push(vmFd);
        int maxVcpus = vmFd.checkExtension(KvmCap.MAX_VCPUS);
        if (maxVcpus <= 0) {
            maxVcpus = vmFd.checkExtension(KvmCap.NR_VCPUS);
        }
        if (maxVcpus > 0 && config.vcpus() > maxVcpus) {
            throw new VmException("this host runs at most " + maxVcpus + " vCPUs per VM, not " + config.vcpus());
        }
        vmFd.setTssAddress(TSS_ADDRESS);
        vmFd.setIdentityMapAddress(IDENTITY_MAP_ADDRESS);
        // Memory slots before the irqchip and PIT: a slot change waits for an SRCU grace
        // period, which costs milliseconds once the in-kernel devices exist.
        vmFd.registerMemory(memory);
        vmFd.createIrqchip();
        vmFd.createPit2(VmFd.PIT_SPEAKER_DUMMY);

        Bus pio = new Bus("port I/O");
        Bus mmio = new Bus("MMIO");
        serial = new Serial16550(irqLine(vmFd, Serial16550.COM1_IRQ), console::emit);
        console.connectInput(serial::enqueueInput);
        pio.register(Serial16550.COM1_PORT, Serial16550.PORT_COUNT, serial);
        pio.register(I8042.BASE_PORT, I8042.PORT_COUNT, new I8042(irqLine(vmFd, I8042.KBD_IRQ), this::stop));
        pio.register(DebugExitPort.PORT, DebugExitPort.PORT_COUNT, new DebugExitPort(this::stop));
        mmio.register(BootTimer.ADDRESS, BootTimer.SIZE, bootTimer);

        io = new IoLoop("vm" + id + "-io");
        resources.push(io);
        List<String> devices = new ArrayList<>();
        // Fixed slots: virtio-blk 0, virtio-rng 1, virtio-net 2 (address VIRTIO_MMIO_BASE + slot * 4 KiB, IRQ 5 + slot).
        if (block != null) {
            disk = attachVirtio("virtio-blk", block, 0, memory, vmFd, mmio, devices).transport();
        }
        VirtioRng rng;
        try {
            rng = VirtioRng.fromUrandom();
        } catch (IOException e) {
            throw new VmException("cannot open /dev/urandom for the guest's virtio-rng: " + e.getMessage(), e);
        }
        attachVirtio("virtio-rng", rng, 1, memory, vmFd, mmio, devices);
        if (config.net()) {
            // The place on the bridge is leased host-wide: the boot image runs one VMM per console,
            // each numbering its VMs from 1, and two of them must not share a TAP or an address.
            NetSlot slot;
            try {
                slot = NetSlot.lease(NetSlot.DEFAULT_DIR, Math.min(id, GuestNetConfig.MAX_ID), GuestNetConfig.MAX_ID);
            } catch (IllegalStateException e) {
                throw new VmException("no network for vm " + id + ": " + e.getMessage(), e);
            }
            resources.push(slot);
            GuestNetConfig addressing = GuestNetConfig.forVm(slot.number());
            TapBackend backend;
            try {
                backend = TapNetwork.attach(GuestNetConfig.DEFAULT_BRIDGE, slot.number(), addressing);
            } catch (KvmException e) {
                throw new VmException("no network for vm " + id + ": " + e.getMessage(), e);
            }
            VhostNetPath vhost = config.vhost() ? vhostFor(backend) : null;
            VirtioNet card;
            try {
                card = new VirtioNet(backend, addressing.mac(), vhost);
            } catch (RuntimeException e) {
                if (vhost != null) {
                    vhost.close();
                }
                backend.close();
                throw e;
            }
            Attached a = attachVirtio("virtio-net", card, 2, memory, vmFd, mmio, devices);
            // Frames from the host: the device reads the TAP until it is empty (or the guest has no buffers).
            IoLoop.Registration tapWatch = io.addEdgeTriggered(backend.fd(), () -> a.transport().processQueue(VirtioNet.RX));
            if (vhost != null) {
                List<IoLoop.Registration> java = new ArrayList<>(a.notifications());
                java.add(tapWatch);
                AckIoeventfd ack = new AckIoeventfd(vmFd, a.base());
                resources.push(ack);
                vhost.bind(new VhostNetPath.Wiring(a.kicks(), a.irq(), java, ack));
            }
            devices.add(addressing.kernelArgument());
            net = new NetCard(card, addressing.macText(),
                    addressing.address().getHostAddress() + "/" + addressing.prefixLength(), backend.describe());
        }

        cmdline = kernelCmdline(config, devices);
        BootSetup boot;
        try {
            LoadedKernel kernel = KernelLoader.load(memory, config.kernel());
            BootConfig bootConfig;
            if (config.initrd().isPresent()) {
                InitrdPlacement initrd = InitrdLoader.load(memory, config.initrd().get(), kernel);
                bootConfig = new BootConfig(cmdline, config.vcpus(), initrd);
            } else {
                bootConfig = new BootConfig(cmdline, config.vcpus());
            }
            boot = LinuxBoot.configure(memory, kernel, bootConfig);
        } catch (IOException e) {
            throw new VmException("cannot read " + e.getMessage(), e);
        } catch (BootException e) {
            throw new VmException("cannot boot " + config.kernel() + ": " + e.getMessage(), e);
        }

        boolean tscDeadline = vmFd.checkExtension(KvmCap.TSC_DEADLINE_TIMER) > 0;
        for (int i = 0; i < config.vcpus(); i++) {
            VcpuFd vcpu = vmFd.createVcpu(i);
            vcpu.setCpuid(CpuidSetup.forVcpu(supported, i, config.vcpus(), tscDeadline));
            vcpu.setMsrs(BootState.msrs(boot.bootCpu().msrs()));
            // LINT0 takes the 8259's ExtINT, LINT1 NMIs, as firmware leaves them for Linux.
            LapicState lapic = vcpu.lapic();
            lapic = lapic.withRegister(LapicState.LVT_LINT0,
                    (lapic.register(LapicState.LVT_LINT0) & ~0x700) | (LapicState.DELIVERY_MODE_EXTINT << 8));
            lapic = lapic.withRegister(LapicState.LVT_LINT1,
                    (lapic.register(LapicState.LVT_LINT1) & ~0x700) | (LapicState.DELIVERY_MODE_NMI << 8));
            vcpu.setLapic(lapic);
            if (i == 0) {
                BootState.apply(vcpu, boot.bootCpu());
            }
            loops.add(new VcpuLoop(i, vcpu, pio, mmio, new VcpuLoop.Owner() {
                @Override
                public void stop(StopReason reason) {
                    Vm.this.stop(reason);
                }

                @Override
                public void finished(int index) {
                }
            }));
        }
    }

    /**
     * vhost-net for a card on {@code tap}, or null when the host cannot serve one: the card then
     * keeps the Java data path. vm_list says which path a card got; the reason is only a debug
     * line (once per VMM), as a host without /dev/vhost-net is ordinary, not a fault.
     */
    private VhostNetPath vhostFor(TapBackend tap) {
        return switch (VhostNetPath.probe(VhostNet.DEVICE)) {
            case VhostNetPath.Available(long features) -> new VhostNetPath(VhostNet.DEVICE, tap.tap(), features, io);
            case VhostNetPath.Unavailable(String reason) -> {
                if (VHOST_ABSENCE_LOGGED.compareAndSet(false, true)) {
                    LOG.log(System.Logger.Level.DEBUG, "no vhost-net (" + reason + "): guests' network cards use the Java data path");
                }
                yield null;
            }
        };
    }

    private static final AtomicBoolean VHOST_ABSENCE_LOGGED = new AtomicBoolean();

    /** The card and what vm_list says of it; the data path is read live, as a failed vhost set-up moves a card to Java. */
    private record NetCard(VirtioNet card, String mac, String address, String tap) {
        VmNet info() {
            return new VmNet(mac, address, tap, card.dataPath());
        }
    }

    /** A virtio device on the bus at {@code base} with what serves it: its notification eventfds, their I/O loop sources, its irqfd. */
    private record Attached(VirtioMmioTransport transport, long base, List<EventFd> kicks,
                            List<IoLoop.Registration> notifications, EventFd irq) {
    }

    /** Puts a virtio device in MMIO slot {@code slot}: its registers, interrupt, notification eventfds, cmdline entry. */
    private Attached attachVirtio(String what, VirtioDevice device, int slot, GuestMemory memory, VmFd vmFd,
                                  Bus mmio, List<String> devices) {
        long base = VIRTIO_MMIO_BASE + slot * VirtioMmioTransport.SIZE;
        int irq = VIRTIO_FIRST_IRQ + slot;
        VirtioMmioTransport t;
        EventFd irqFd;
        try {
            irqFd = irqEventFd(vmFd, irq);
            t = new VirtioMmioTransport("vm" + id + " " + what, device, memory, trigger(irqFd));
        } catch (RuntimeException e) {
            device.close();
            throw e;
        }
        resources.push(t);
        mmio.register(base, VirtioMmioTransport.SIZE, t);
        List<EventFd> kicks = new ArrayList<>();
        List<IoLoop.Registration> watches = new ArrayList<>();
        for (int q = 0; q < t.queueCount(); q++) {
            EventFd notify = EventFd.create(true);
            resources.push(notify);
            vmFd.registerIoeventfd(notify, VmFd.IoSpace.MMIO, base + VirtioMmioTransport.QUEUE_NOTIFY_OFFSET, 4, (long) q);
            int queue = q;
            kicks.add(notify);
            watches.add(io.add(notify, () -> t.processQueue(queue)));
        }
        devices.add(VirtioMmioTransport.cmdlineEntry(base, irq));
        return new Attached(t, base, kicks, watches, irqFd);
    }

    private InterruptTrigger irqLine(VmFd vmFd, int gsi) {
        return trigger(irqEventFd(vmFd, gsi));
    }

    private EventFd irqEventFd(VmFd vmFd, int gsi) {
        EventFd fd = EventFd.create(true);
        resources.push(fd);
        vmFd.registerIrqfd(fd, gsi);
        return fd;
    }

    private InterruptTrigger trigger(EventFd fd) {
        return () -> {
            if (!closing) {
                fd.write(1);
            }
        };
    }

    private static void requireFile(Path p, String what) {
        if (!Files.isRegularFile(p)) {
            throw new VmException(what + " " + p + " does not exist or is not a regular file");
        }
        if (!Files.isReadable(p)) {
            throw new VmException(what + " " + p + " is not readable");
        }
    }

    /** The kernel command line for {@code config} with the given device announcements. */
    public static String kernelCmdline(VmConfig config, List<String> deviceEntries) {
        StringBuilder b = new StringBuilder(BASE_CMDLINE);
        if (config.image().isPresent()) {
            b.append(" root=/dev/vda ").append(config.readOnly() ? "ro" : "rw");
        }
        for (String d : deviceEntries) {
            b.append(' ').append(d);
        }
        if (!config.cmdlineExtra().isEmpty()) {
            b.append(' ').append(config.cmdlineExtra());
        }
        return b.toString();
    }

    private void startThreads() {
        if (io != null) {
            io.start();
        }
        for (int i = 0; i < loops.size(); i++) {
            threads.add(Thread.ofPlatform().name("vm" + id + "-vcpu" + i).daemon().start(loops.get(i)));
        }
    }

    /** Whether /dev/kvm is a PVM (its instruction emulator stops stock Linux guests early). */
    private static final class Host {
        static final boolean PVM = KvmCheck.check().pvm();
    }

    /** Ends the VM with {@code reason} (the first reason wins) and releases it in the background. */
    void stop(StopReason reason) {
        if (reason instanceof StopReason.InternalError(String message) && message.contains("emulation failed") && Host.PVM) {
            reason = new StopReason.InternalError(message
                    + " (this host's /dev/kvm is a PVM, which cannot run stock Linux guests)");
        }
        synchronized (stateLock) {
            if (state instanceof VmState.Stopped) {
                return;
            }
            state = new VmState.Stopped(reason);
            stoppedAt = Instant.now();
        }
        if (!(reason instanceof StopReason.Destroyed) && !(reason instanceof StopReason.GuestReset)) {
            LOG.log(System.Logger.Level.DEBUG, "vm " + id + " stopped: " + reason);
        }
        for (VcpuLoop l : loops) {
            l.finish();
        }
        // A vCPU thread may be the caller: it cannot wait for itself, so another thread releases.
        Thread.ofVirtual().name("vm" + id + "-release").start(this::release);
    }

    /**
     * Stops the VM if it runs and releases every resource: threads, fds, memory, the image
     * lock; returns when all is released. Idempotent. Called from one of the VM's own threads
     * (a console listener runs on a vCPU thread) it returns at once and the release follows.
     */
    public void destroy() {
        stop(new StopReason.Destroyed());
        if (threads.contains(Thread.currentThread())) {
            return;
        }
        release();
    }

    private void release() {
        boolean first;
        synchronized (stateLock) {
            first = !tearingDown;
            tearingDown = true;
        }
        if (!first) {
            // Wait outside the lock: the vCPU threads being joined may still call stop().
            awaitReleased();
            return;
        }
        for (Thread t : threads) {
            joinKicking(t);
        }
        finishRelease();
    }

    private void joinKicking(Thread t) {
        try {
            while (!t.join(Duration.ofMillis(200))) {
                // A kick can race with a thread entering KVM_RUN; kicking again is harmless.
                for (VcpuLoop l : loops) {
                    l.finish();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void finishRelease() {
        // The I/O thread first: it reads the notification eventfds and touches guest memory.
        // Then the rest in reverse order of creation: the VM fd (and its vCPUs) before the
        // memory it maps, the disk image last.
        if (io != null) {
            io.close();
        }
        // Console input arrives on the caller's thread: cut it off, then wait out a call
        // that may be inside the UART (it holds the UART's monitor) before fds close.
        closing = true;
        console.connectInput(bytes -> { });
        if (serial != null) {
            synchronized (serial) {
                serial.pendingInput();
            }
        }
        while (!resources.isEmpty()) {
            AutoCloseable r = resources.pop();
            try {
                r.close();
            } catch (Exception e) {
                LOG.log(System.Logger.Level.WARNING, "vm " + id + ": releasing " + r + " failed: " + e);
            }
        }
        console.end();
        released.countDown();
    }

    private void awaitReleased() {
        try {
            released.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Waits until the VM stopped and released its resources, up to {@code timeout}; returns
     * the reason, or empty if it still runs.
     */
    public Optional<StopReason> awaitStop(Duration timeout) throws InterruptedException {
        if (!released.await(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
            return Optional.empty();
        }
        return Optional.of(((VmState.Stopped) state).reason());
    }

    /** Stops every vCPU after its current exit; {@link #resume()} lets them go on. */
    public void pause() throws InterruptedException {
        for (VcpuLoop l : loops) {
            l.pause();
        }
        for (VcpuLoop l : loops) {
            l.awaitPaused();
        }
    }

    public void resume() {
        for (VcpuLoop l : loops) {
            l.resume();
        }
    }

    public int id() {
        return id;
    }

    public VmConfig config() {
        return config;
    }

    public VmState state() {
        return state;
    }

    public Console console() {
        return console;
    }

    /** The kernel command line the guest was given. */
    public String cmdline() {
        return cmdline;
    }

    public Instant startedAt() {
        return started;
    }

    /** Time since creation, or from creation to the stop. */
    public Duration uptime() {
        Instant end = stoppedAt;
        return Duration.between(started, end == null ? Instant.now() : end);
    }

    public VmInfo info() {
        return new VmInfo(id, config.kernel(), config.image(), config.vcpus(), config.memoryBytes(), state, uptime(),
                Optional.ofNullable(net).map(NetCard::info));
    }

    /** Guest-physical address of the boot timer page (see {@link #bootMarks()}). */
    public static final long BOOT_TIMER_ADDRESS = BootTimer.ADDRESS;

    /**
     * Times since creation at which the guest wrote to {@link #BOOT_TIMER_ADDRESS}, in order,
     * as (value written, time): the guest's init does {@code devmem 0xd0f00000 8 <n>}.
     */
    public List<Map.Entry<Long, Duration>> bootMarks() {
        return bootTimer.marks().stream().map(m -> Map.entry(m.value(), m.sinceCreate())).toList();
    }

    /** The disk's failure (DEVICE_NEEDS_RESET reason), if the guest's driver broke it. */
    public Optional<String> diskFailure() {
        return disk == null ? Optional.empty() : Optional.ofNullable(disk.failure());
    }

    @Override
    public String toString() {
        return "vm " + id + " (" + state + ")";
    }
}
