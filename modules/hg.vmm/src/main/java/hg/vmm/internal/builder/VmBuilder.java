package hg.vmm.internal.builder;

import hg.boot.BootConfig;
import hg.boot.BootException;
import hg.boot.BootSetup;
import hg.boot.InitrdLoader;
import hg.boot.InitrdPlacement;
import hg.boot.KernelLoader;
import hg.boot.LinuxBoot;
import hg.boot.LoadedKernel;
import hg.boot.X86Layout;
import hg.kvm.CoalescedRing;
import hg.kvm.CpuidEntry;
import hg.kvm.CpuidTable;
import hg.kvm.GuestMemory;
import hg.kvm.GuestMemoryException;
import hg.kvm.Kvm;
import hg.kvm.KvmException;
import hg.kvm.LapicState;
import hg.kvm.VcpuFd;
import hg.kvm.VmFd;
import hg.kvm.net.Tap;
import hg.kvm.net.VhostNet;
import hg.kvm.sys.EventFd;
import hg.vmm.GuestCmdline;
import hg.vmm.StopReason;
import hg.vmm.VmConfig;
import hg.vmm.VmDisk;
import hg.vmm.VmException;
import hg.vmm.internal.bus.Bus;
import hg.vmm.internal.bus.InterruptTrigger;
import hg.vmm.internal.cpu.BootState;
import hg.vmm.internal.cpu.ClockAdvance;
import hg.vmm.internal.cpu.CoalescedFlusher;
import hg.vmm.internal.cpu.CpuidTables;
import hg.vmm.internal.cpu.VcpuLoop;
import hg.vmm.internal.io.ConsoleBuffer;
import hg.vmm.internal.io.IoLoop;
import hg.vmm.internal.legacy.I8042;
import hg.vmm.internal.log.RateLimitedLog;
import hg.vmm.internal.legacy.Serial16550;
import hg.vmm.internal.pseudo.BootTimer;
import hg.vmm.internal.pseudo.DebugExitPort;
import hg.vmm.internal.snapshot.VmSnapshot;
import hg.vmm.internal.virtio.AckIoeventfd;
import hg.vmm.internal.virtio.TransportState;
import hg.vmm.internal.virtio.VirtioDevice;
import hg.vmm.internal.virtio.VirtioException;
import hg.vmm.internal.virtio.VirtioMmioTransport;
import hg.vmm.internal.virtio.block.BlockBackend;
import hg.vmm.internal.virtio.block.CowOverlay;
import hg.vmm.internal.virtio.block.DiskImage;
import hg.vmm.internal.virtio.block.ImageBackend;
import hg.vmm.internal.virtio.block.VirtioBlock;
import hg.vmm.internal.virtio.net.GuestNetConfig;
import hg.vmm.internal.virtio.net.NetSlot;
import hg.vmm.internal.virtio.net.TapBackend;
import hg.vmm.internal.virtio.net.TapNetwork;
import hg.vmm.internal.virtio.net.VirtioNet;
import hg.vmm.internal.virtio.net.vhost.TapCounters;
import hg.vmm.internal.virtio.net.vhost.VhostNetPath;
import hg.ninep.Share;
import hg.vmm.internal.virtio.ninep.VirtioNinep;
import hg.vmm.internal.virtio.console.VirtioConsole;
import hg.vmm.internal.virtio.rng.VirtioRng;
import hg.vmm.internal.virtio.vsock.VirtioVsock;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * The recipe that makes a VM, read top to bottom in {@link #build()}: disks, memory, VM fd,
 * in-kernel irqchip and PIT, buses, legacy devices, the virtio devices of the configuration,
 * kernel and boot layout, vCPUs. Nothing runs yet; {@link hg.vmm.Vm} starts the threads. A
 * failure releases everything made so far and throws one {@link VmException}.
 */
public final class VmBuilder {
    /** KVM's TSS and identity-map pages (Intel needs them), just below the BIOS area at the top of 4 GiB. */
    static final long TSS_ADDRESS = 0xfffb_d000L;
    static final long IDENTITY_MAP_ADDRESS = 0xfffb_c000L;

    private static final System.Logger LOG = System.getLogger("hg.vmm");
    private static final AtomicBoolean VHOST_ABSENCE_LOGGED = new AtomicBoolean();

    /** First, so the builder's own fields are in the first step. */
    private final StepClock steps = new StepClock();
    private final Kvm kvm;
    private final List<CpuidEntry> supportedCpuid;
    private CoalescedRing coalescedRing;
    private final int id;
    private final VmConfig config;
    private final Consumer<StopReason> stop;
    private final Resources resources;
    private final MmioDeviceManager slots = new MmioDeviceManager();
    private final ConsoleBuffer console = new ConsoleBuffer();
    /** Warnings the guest can cause, limited for this VM alone. */
    private final RateLimitedLog guestWarnings = RateLimitedLog.to(System.getLogger("hg.vmm.virtio"));
    private final BootTimer bootTimer = new BootTimer(System.nanoTime());
    private final Bus pio = new Bus("port I/O");
    private final Bus mmio = new Bus("MMIO");
    private final List<String> deviceEntries = new ArrayList<>();
    /** Set when the VM is restored from a snapshot instead of booted. */
    private final RestoreFrom restore;
    private final List<VirtioMmioTransport> transports = new ArrayList<>();
    /** Every queue's notification eventfd, in the order of the devices. */
    private final List<EventFd> allKicks = new ArrayList<>();
    /** The CPUID each vCPU was given: KVM_GET_CPUID2 does not give it back as set on every host (a PVM adds bits). */
    private final List<List<CpuidEntry>> cpuids = new ArrayList<>();
    private GuestMemory memory;
    private VmFd vmFd;
    private IoLoop io;
    private I8042 i8042;
    private int netSlot;
    private long clockZeroAt;

    /**
     * What a restore starts from: the decoded state and the memory file beside it.
     *
     * @param asClone a clone: each writable disk gets a copy-on-write overlay of this VM's own, and the network
     *              card a place of its own on the bridge (its MAC and address; the guest still uses the ones
     *              it had until it is told)
     */
    public record RestoreFrom(VmSnapshot snapshot, Path memoryFile, boolean asClone) {
    }

    private VmBuilder(Kvm kvm, List<CpuidEntry> supportedCpuid, int id, VmConfig config, Consumer<StopReason> stop,
                      RestoreFrom restore) {
        this.restore = restore;
        this.kvm = kvm;
        this.supportedCpuid = supportedCpuid;
        this.id = id;
        this.config = config;
        this.stop = stop;
        this.resources = new Resources("vm " + id);
    }

    /**
     * Makes VM {@code id} from {@code config}; {@code stop} is how its devices and vCPUs end it
     * (reset, debug exit, triple fault). On any failure all made so far is released and one
     * {@link VmException} names the problem (missing file, not a kernel, busy image, KVM error).
     */
    public static BuiltVm build(Kvm kvm, List<CpuidEntry> supportedCpuid, int id, VmConfig config,
                                Consumer<StopReason> stop) {
        return make(new VmBuilder(kvm, supportedCpuid, id, config, stop, null));
    }

    /**
     * Makes VM {@code id} as a snapshot left it: the same devices as {@code config} (the disks the
     * snapshot's), guest memory mapped from its memory file, and every vCPU, interrupt controller,
     * timer and device in the saved state. Nothing runs yet.
     */
    public static BuiltVm restore(Kvm kvm, List<CpuidEntry> supportedCpuid, int id, VmConfig config,
                                  Consumer<StopReason> stop, RestoreFrom from) {
        return make(new VmBuilder(kvm, supportedCpuid, id, config, stop, from));
    }

    private static BuiltVm make(VmBuilder b) {
        try {
            return b.build();
        } catch (RuntimeException | Error e) {
            b.resources.releaseAll();
            if (e instanceof KvmException ke) {
                throw new VmException("KVM refused to create the VM: " + ke.getMessage(), ke);
            }
            throw e;
        }
    }

    private BuiltVm build() {
        if (restore == null) {
            requireFile(config.kernel(), "kernel");
            config.initrd().ifPresent(p -> requireFile(p, "initrd"));
        }
        steps.mark("builder and file checks");
        // The disks first: a busy or missing image must fail before anything else is made.
        List<OpenDisk> disks = openDisks();
        steps.mark("disks");
        memory = resources.push(restore == null ? mapMemory() : mapSnapshotMemory());
        // [anon:hg-vm-N-ram] in smaps: what is guest RAM and what is the VMM's own (where the kernel names mappings)
        memory.name("hg-vm-" + id + "-ram");
        steps.mark("guest memory");
        vmFd = resources.push(kvm.createVm());
        checkVcpuCount();
        vmFd.setTssAddress(TSS_ADDRESS);
        vmFd.setIdentityMapAddress(IDENTITY_MAP_ADDRESS);
        steps.mark("VM fd");
        // Memory slots before the irqchip and PIT: a slot change waits for an SRCU grace
        // period, which costs milliseconds once the in-kernel devices exist.
        vmFd.registerMemory(memory);
        steps.mark("memory slots");
        vmFd.createIrqchip();
        vmFd.createPit2(VmFd.PIT_SPEAKER_DUMMY);
        steps.mark("irqchip and PIT");
        if (restore == null) {
            // KVM tells the guest this instant as its wall clock's base: kept for snapshots of it.
            clockZeroAt = SnapshotTaker.wallClockNanos() - vmFd.clock().clock();
        }

        // Released last but one: what the guest's warnings still had suppressed is said when the VM ends.
        resources.push(guestWarnings::flush);
        Serial16550 serial = attachLegacyDevices();
        steps.mark("legacy devices");
        String ioName = "vm" + id + "-io";
        // Disks and network die with the I/O thread: the VM stops rather than run on without them.
        io = resources.push(new IoLoop(ioName,
                e -> stop.accept(new StopReason.InternalError("I/O thread " + ioName + " failed: " + e))));
        steps.mark("I/O loop");
        List<AttachedDisk> attachedDisks = new ArrayList<>();
        for (OpenDisk d : disks) {
            attachedDisks.add(attachBlock(d));
        }
        attachRng();
        // The console as the command line has it: the one made here, or the one the snapshot's guest was given.
        if (GuestCmdline.wantsVirtioConsole(
                restore == null ? GuestCmdline.of(config, List.of()) : restore.snapshot().vm().cmdline())) {
            attachConsole(serial);
        }
        Optional<NetCard> net = config.net() ? Optional.of(attachNet()) : Optional.empty();
        config.vsock().ifPresent(this::attachVsock);
        config.shares().forEach(this::attachShare);
        steps.mark("virtio devices");

        String cmdline;
        List<VcpuLoop> loops;
        if (restore == null) {
            cmdline = GuestCmdline.of(config, deviceEntries);
            loops = createVcpus(loadKernel(cmdline));
        } else {
            cmdline = restore.snapshot().vm().cmdline();
            loops = restoreState(serial);
            // A notification the I/O thread had not read when the snapshot was taken is not in it: the
            // chains it announced would wait for good (with event-idx the driver does not notify again).
            // Every queue looks once; one with nothing new costs a read of its index.
            allKicks.forEach(k -> k.write(1));
            steps.mark("saved state");
        }
        return new BuiltVm(resources, io, serial, console, bootTimer, loops, attachedDisks, net, cmdline,
                new BuiltVm.Machine(vmFd, memory, i8042, transports, netSlot, cpuids, clockZeroAt), steps);
    }

    // ---- the steps

    private record OpenDisk(String device, BlockBackend backend) {
    }

    /** The root image as vda, then the data disks as vdb, vdc, ... in the order given. */
    private List<OpenDisk> openDisks() {
        List<VmConfig.Disk> wanted = new ArrayList<>();
        config.image().ifPresent(p -> wanted.add(new VmConfig.Disk(p, config.readOnly())));
        wanted.addAll(config.dataDisks());
        Set<Path> seen = new HashSet<>();
        List<OpenDisk> out = new ArrayList<>();
        for (int i = 0; i < wanted.size(); i++) {
            VmConfig.Disk d = wanted.get(i);
            if (Files.exists(d.path()) && !seen.add(realPath(d.path()))) {
                throw new VmException("disk image " + d.path() + " is given twice: a VM attaches an image once");
            }
            out.add(new OpenDisk(diskName(i), resources.push(openDisk(diskName(i), d))));
        }
        return out;
    }

    /** The image itself, or for a clone a copy-on-write overlay of its own over the frozen image. */
    private BlockBackend openDisk(String device, VmConfig.Disk d) {
        try {
            if (restore != null && restore.asClone() && !d.readOnly()) {
                // Unlinked once open: a crashed VMM leaves no overlay behind.
                return CowOverlay.create(d.path(), d.path().resolveSibling(".vm" + id + "-" + device + ".overlay"), false);
            }
            return openImage(d.path(), d.readOnly());
        } catch (IOException e) {
            throw new VmException("cannot open disk image " + d.path() + ": " + e.getMessage(), e);
        }
    }

    /** A raw image, opened and locked (shared for reading, alone for writing). */
    public static BlockBackend openImage(Path path, boolean readOnly) throws IOException {
        DiskImage image = DiskImage.open(path, readOnly);
        try {
            return ImageBackend.of(image);
        } catch (IOException e) {
            image.close();
            throw e;
        }
    }

    /** vda, vdb, ..., vdz, vdaa, ...: how Linux names virtio disks in probe order. */
    static String diskName(int index) {
        String letters = "";
        int n = index;
        do {
            letters = (char) ('a' + n % 26) + letters;
            n = n / 26 - 1;
        } while (n >= 0);
        return "vd" + letters;
    }

    private GuestMemory mapMemory() {
        List<GuestMemory.Range> ranges;
        try {
            ranges = X86Layout.ramRanges(config.memoryBytes());
        } catch (BootException e) {
            throw new VmException("memory size " + config.memoryBytes() + ": " + e.getMessage(), e);
        }
        return config.hugepages() ? HugePages.map(ranges, config.memoryBytes()) : GuestMemory.map(ranges);
    }

    private void checkVcpuCount() {
        int maxVcpus = kvm.maxVcpusPerVm();
        if (maxVcpus > 0 && config.vcpus() > maxVcpus) {
            throw new VmException("this host runs at most " + maxVcpus + " vCPUs per VM, not " + config.vcpus());
        }
    }

    /**
     * COM1 (the console), the i8042 (its reset line ends the VM), the debug exit port and the boot timer.
     * Writes to COM1's data port wait in KVM's coalesced ring where it has one: Linux sends its console a byte
     * at a time and reads the line status before each, so the write need not exit too (the read, which must,
     * hands the waiting bytes over first).
     */
    private Serial16550 attachLegacyDevices() {
        Serial16550 serial = new Serial16550(irqLine(Serial16550.COM1_IRQ), console::emit);
        console.connectInput(serial::enqueueInput);
        pio.register(Serial16550.COM1_PORT, Serial16550.PORT_COUNT, serial);
        if (kvm.coalescedPio()) {
            vmFd.registerCoalescedPio(Serial16550.COM1_PORT, 1);
        }
        i8042 = new I8042(irqLine(I8042.KBD_IRQ), stop);
        pio.register(I8042.BASE_PORT, I8042.PORT_COUNT, i8042);
        pio.register(DebugExitPort.PORT, DebugExitPort.PORT_COUNT, new DebugExitPort(stop));
        mmio.register(BootTimer.ADDRESS, BootTimer.SIZE, bootTimer);
        return serial;
    }

    private AttachedDisk attachBlock(OpenDisk disk) {
        // The serial (at most 20 bytes) names the VM and the disk, for /dev/disk/by-id in the guest.
        VirtioBlock block = new VirtioBlock(disk.backend(), "hg-vm" + id + (disk.device().equals("vda") ? "" : "-" + disk.device()));
        Attached a = attachVirtio("virtio-blk " + disk.device(), block);
        BlockBackend b = disk.backend();
        return new AttachedDisk(new VmDisk(disk.device(), b.path(), b.readOnly()), a.transport(), block, b);
    }

    private void attachRng() {
        VirtioRng rng;
        try {
            rng = VirtioRng.fromUrandom(guestWarnings);
        } catch (IOException e) {
            throw new VmException("cannot open /dev/urandom for the guest's virtio-rng: " + e.getMessage(), e);
        }
        attachVirtio("virtio-rng", rng);
    }

    /**
     * The guest's hvc0, writing to the VM's console like the UART. Typed input goes to both: a guest reads
     * one of them, and what waits in the other is bounded (a program that is not Linux polls the UART).
     */
    private void attachConsole(Serial16550 serial) {
        VirtioConsole device = new VirtioConsole(console::emit);
        Attached a = attachVirtio("virtio-console", device);
        device.onInput(() -> a.transport().processQueue(VirtioConsole.RX));
        console.connectInput(bytes -> {
            serial.enqueueInput(bytes);
            device.enqueueInput(bytes);
        });
    }

    /** A host directory the guest mounts over 9p; one that cannot be opened fails the VM with one line. */
    private void attachShare(VmConfig.Share share) {
        VirtioNinep device;
        try {
            device = new VirtioNinep(new Share(share.dir(), share.tag(), share.readOnly()));
        } catch (IOException | IllegalArgumentException e) {
            throw new VmException("cannot share " + share.dir() + " as '" + share.tag() + "': " + e.getMessage(), e);
        }
        attachVirtio("virtio-9p " + share.tag(), device);
    }

    /** The guest's vsock, served on the host at {@code socket}; a restored guest hears that its streams are gone. */
    private void attachVsock(Path socket) {
        VirtioVsock vsock;
        try {
            vsock = new VirtioVsock(socket, "vm" + id, guestWarnings, restore != null);
        } catch (IOException e) {
            throw new VmException("no vsock for vm " + id + ": " + e.getMessage(), e);
        }
        Attached a = attachVirtio("virtio-vsock", vsock);
        vsock.onHostEvents(() -> a.transport().processQueue(VirtioVsock.RX));
    }

    /**
     * The card on a TAP the caller made: used as it is (its bridge, addresses and filtering are the caller's), so
     * no place on hyper-gen's bridge is leased and the guest gets no {@code ip=}; the TAP outlives the VM.
     */
    private NetCard attachHostTap(VmConfig.HostTap host) {
        byte[] mac = host.mac().orElseGet(() -> GuestNetConfig.derivedMac(host.name()));
        Tap tap;
        try {
            tap = Tap.create(host.name());
        } catch (KvmException e) {
            throw new VmException("no network for vm " + id + ": TAP " + host.name() + ": " + e.getMessage(), e);
        }
        return attachCard(new TapBackend(tap, "tap " + tap.name()), mac, HexFormat.ofDelimiter(":").formatHex(mac), "-",
                "", null);
    }

    private NetCard attachNet() {
        if (config.hostTap().isPresent()) {
            return attachHostTap(config.hostTap().get());
        }
        // The place on the bridge is leased host-wide: the boot image runs one VMM per console,
        // each numbering its VMs from 1, and two of them must not share a TAP or an address.
        NetSlot slot;
        try {
            if (restore == null || restore.asClone()) {
                slot = resources.push(NetSlot.lease(NetSlot.DEFAULT_DIR, Math.min(id, GuestNetConfig.MAX_ID), GuestNetConfig.MAX_ID));
            } else {
                // The guest keeps the MAC and address it had: exactly that place on the bridge, or no VM.
                int wanted = restore.snapshot().vm().netSlot();
                if (wanted < 1 || wanted > GuestNetConfig.MAX_ID) {
                    throw new VmException("the snapshot names network place " + wanted + ", not one of 1 to " + GuestNetConfig.MAX_ID);
                }
                try {
                    slot = resources.push(NetSlot.lease(NetSlot.DEFAULT_DIR, wanted, wanted));
                } catch (IllegalStateException e) {
                    throw new VmException("the snapshot's guest has address " + GuestNetConfig.forVm(wanted).address().getHostAddress()
                            + ", which a running VM holds: destroy that VM first", e);
                }
            }
        } catch (IllegalStateException e) {
            throw new VmException("no network for vm " + id + ": " + e.getMessage(), e);
        }
        netSlot = slot.number();
        GuestNetConfig addressing = GuestNetConfig.forVm(slot.number());
        TapBackend backend;
        try {
            backend = TapNetwork.attach(GuestNetConfig.DEFAULT_BRIDGE, slot.number(), addressing);
        } catch (KvmException e) {
            throw new VmException("no network for vm " + id + ": " + e.getMessage(), e);
        }
        return attachCard(backend, addressing.mac(), addressing.macText(),
                addressing.address().getHostAddress() + "/" + addressing.prefixLength(),
                addressing.gateway().getHostAddress(), addressing.kernelArgument());
    }

    /** The card on {@code backend}; {@code kernelArgument} (or null) tells the guest its address. */
    private NetCard attachCard(TapBackend backend, byte[] mac, String macText, String address, String gateway,
                               String kernelArgument) {
        VhostNetPath vhost = config.vhost() ? vhostFor(backend) : null;
        VirtioNet card;
        try {
            card = new VirtioNet(backend, mac, vhost);
        } catch (RuntimeException e) {
            if (vhost != null) {
                vhost.close();
            }
            backend.close();
            throw e;
        }
        Attached a = attachVirtio("virtio-net", card);
        // Frames from the host: the device reads the TAP until it is empty (or the guest has no buffers).
        IoLoop.Registration tapWatch = io.addEdgeTriggered(backend.fd(), () -> a.transport().processQueue(VirtioNet.RX));
        if (vhost != null) {
            List<IoLoop.Registration> java = new ArrayList<>(a.notifications());
            java.add(tapWatch);
            vhost.bind(new VhostNetPath.Wiring(a.kicks(), a.irq(), java));
        }
        if (kernelArgument != null) {
            deviceEntries.add(kernelArgument);
        }
        return new NetCard(card, macText, address, gateway, backend.describe(),
                vhost == null ? Optional.empty() : tapCounters(backend.tap().name()));
    }

    /**
     * The TAP's own counters, for a card whose frames vhost-net moves past this process. Released
     * before the card (and with it the TAP), so their last reading is taken while the TAP is there.
     * Without them (netlink refused) the card's own counts stand in, which miss vhost-net's frames.
     */
    private Optional<TapCounters> tapCounters(String tap) {
        try {
            return Optional.of(resources.push(TapCounters.open(tap)));
        } catch (KvmException e) {
            LOG.log(System.Logger.Level.WARNING, "vm " + id + ": no counters of " + tap + " (" + e.getMessage()
                    + "): its network counters miss what vhost-net moves");
            return Optional.empty();
        }
    }

    /**
     * vhost-net for a card on {@code tap}, or null when the host cannot serve one: the card then
     * keeps the Java data path. vm_list says which path a card got; the reason is only a debug
     * line (once per VMM), as a host without /dev/vhost-net is ordinary, not a fault.
     */
    private VhostNetPath vhostFor(TapBackend tap) {
        return switch (VhostNetPath.probe(VhostNet.DEVICE)) {
            case VhostNetPath.Available(long features) -> new VhostNetPath(VhostNet.DEVICE, tap.tap(), features, io, guestWarnings);
            case VhostNetPath.Unavailable(String reason) -> {
                if (VHOST_ABSENCE_LOGGED.compareAndSet(false, true)) {
                    LOG.log(System.Logger.Level.DEBUG, "no vhost-net (" + reason + "): guests' network cards use the Java data path");
                }
                yield null;
            }
        };
    }

    private BootSetup loadKernel(String cmdline) {
        try {
            LoadedKernel kernel = KernelLoader.load(memory, config.kernel());
            steps.mark("kernel");
            BootConfig bootConfig;
            if (config.initrd().isPresent()) {
                InitrdPlacement initrd = InitrdLoader.load(memory, config.initrd().get(), kernel);
                bootConfig = new BootConfig(cmdline, config.vcpus(), initrd);
            } else {
                bootConfig = new BootConfig(cmdline, config.vcpus());
            }
            BootSetup boot = LinuxBoot.configure(memory, kernel, bootConfig);
            steps.mark("boot tables");
            return boot;
        } catch (IOException e) {
            throw new VmException("cannot read " + e.getMessage(), e);
        } catch (BootException e) {
            throw new VmException("cannot boot " + config.kernel() + ": " + e.getMessage(), e);
        }
    }

    private List<VcpuLoop> createVcpus(BootSetup boot) {
        boolean tscDeadline = kvm.tscDeadlineTimer();
        List<VcpuLoop> loops = new ArrayList<>();
        for (int i = 0; i < config.vcpus(); i++) {
            VcpuFd vcpu = vmFd.createVcpu(i);
            steps.mark("vCPU fd");
            CpuidTable cpuid = CpuidTables.forVcpu(supportedCpuid, i, config.vcpus(), tscDeadline);
            steps.mark("vCPU CPUID made");
            vcpu.setCpuid(cpuid);
            cpuids.add(cpuid.entries());
            steps.mark("vCPU CPUID set");
            vcpu.setMsrs(BootState.msrs(boot.bootCpu().msrs()));
            steps.mark("vCPU MSRs");
            // LINT0 takes the 8259's ExtINT, LINT1 NMIs, as firmware leaves them for Linux.
            LapicState lapic = vcpu.lapic();
            lapic = lapic.withRegister(LapicState.LVT_LINT0,
                    (lapic.register(LapicState.LVT_LINT0) & ~0x700) | (LapicState.DELIVERY_MODE_EXTINT << 8));
            lapic = lapic.withRegister(LapicState.LVT_LINT1,
                    (lapic.register(LapicState.LVT_LINT1) & ~0x700) | (LapicState.DELIVERY_MODE_NMI << 8));
            vcpu.setLapic(lapic);
            steps.mark("vCPU LAPIC");
            if (i == 0) {
                BootState.apply(vcpu, boot.bootCpu());
            }
            loops.add(new VcpuLoop(i, vcpu, pio, mmio, coalescedRing(vcpu), stop::accept));
            steps.mark("vCPU registers");
        }
        return loops;
    }

    /**
     * The VM's coalesced ring, or null where KVM has none: one object for all the vCPUs (its drain is
     * synchronized), seen through the first vCPU's mapping, which lives as long as the VM's threads.
     */
    private CoalescedRing coalescedRing(VcpuFd vcpu) {
        if (coalescedRing == null && kvm.coalescedPio()) {
            coalescedRing = vcpu.coalescedRing();
            // Released before the VM fd (which closes the vCPUs and so unmaps the ring): nothing reads it after.
            resources.push(CoalescedFlusher.watch(coalescedRing, this::replayCoalesced));
        }
        return coalescedRing;
    }

    /** A coalesced write that the flusher found: the one zone is COM1's data port. */
    private void replayCoalesced(boolean toPort, long address, long data, int length) {
        (toPort ? pio : mmio).write(address, CoalescedRing.unpack(data, new byte[Math.max(0, Math.min(length, 8))]));
    }

    // ---- restoring a snapshot

    private GuestMemory mapSnapshotMemory() {
        try {
            return GuestMemory.mapFile(X86Layout.ramRanges(config.memoryBytes()), restore.memoryFile());
        } catch (BootException e) {
            throw new VmException("memory size " + config.memoryBytes() + ": " + e.getMessage(), e);
        } catch (GuestMemoryException | KvmException e) {
            throw new VmException("cannot map the snapshot's memory: " + e.getMessage(), e);
        }
    }

    /**
     * vCPUs with the CPUID they had, then the saved state: devices first (nothing runs yet, so
     * no interrupt is lost), then each vCPU, then the interrupt controllers, PIT and clock.
     */
    private List<VcpuLoop> restoreState(Serial16550 serial) {
        VmSnapshot s = restore.snapshot();
        if (s.devices().size() != transports.size()) {
            throw new VmException("the snapshot has " + s.devices().size() + " virtio devices, the VM made from it "
                    + transports.size());
        }
        serial.restore(s.serial());
        i8042.restore(s.i8042());
        for (int i = 0; i < transports.size(); i++) {
            TransportState saved = s.devices().get(i);
            if (restore.asClone() && saved.deviceType() == VirtioNet.DEVICE_ID) {
                // A clone's card has a MAC of its own in its config space; the rest of the card is the saved one.
                saved = saved.withConfig(transports.get(i).state().config());
            }
            try {
                transports.get(i).restore(saved);
            } catch (VirtioException e) {
                throw new VmException("cannot restore the snapshot's devices: " + e.getMessage(), e);
            }
        }
        List<VcpuLoop> loops = new ArrayList<>();
        for (int i = 0; i < s.vcpus().size(); i++) {
            VcpuFd vcpu = vmFd.createVcpu(i);
            vcpu.setCpuid(s.vcpus().get(i).cpuid());
            cpuids.add(s.vcpus().get(i).cpuid());
            loops.add(new VcpuLoop(i, vcpu, pio, mmio, coalescedRing(vcpu), stop::accept));
        }
        // The guest's wall clock is the host's again (what it lost on disk, and any drift before).
        long saved = s.machine().clock().clock();
        long away = s.vm().clockZeroAt() == 0 ? 0
                : Math.max(0, SnapshotTaker.wallClockNanos() - s.vm().clockZeroAt() - saved);
        clockZeroAt = s.vm().clockZeroAt();
        try {
            for (int i = 0; i < loops.size(); i++) {
                VcpuFd vcpu = loops.get(i).vcpu();
                ClockAdvance.vcpu(s.vcpus().get(i).state(), away, vcpu.tscKhz()).restoreInto(vcpu);
            }
            ClockAdvance.machine(s.machine(), away).restoreInto(vmFd);
        } catch (KvmException e) {
            throw new VmException("KVM refused the snapshot's state: " + e.getMessage(), e);
        }
        transports.forEach(VirtioMmioTransport::replayInterrupt);
        return loops;
    }

    // ---- wiring a virtio device

    /** A virtio device on the bus with what serves it: its notification eventfds, their I/O loop sources, its irqfd. */
    private record Attached(VirtioMmioTransport transport, MmioSlot slot, List<EventFd> kicks,
                            List<IoLoop.Registration> notifications, EventFd irq) {
    }

    /** Puts a virtio device in the next MMIO slot: its registers, interrupt, notification eventfds, cmdline entry. */
    private Attached attachVirtio(String what, VirtioDevice device) {
        MmioSlot slot;
        VirtioMmioTransport t;
        EventFd irqFd;
        try {
            slot = slots.allocate(what);
            irqFd = irqEventFd(slot.irq());
            t = new VirtioMmioTransport("vm" + id + " " + what, device, memory, trigger(irqFd),
                    resources.push(new AckIoeventfd(vmFd, slot.base())), guestWarnings);
        } catch (RuntimeException e) {
            device.close();
            throw e;
        }
        resources.push(t);
        transports.add(t);
        mmio.register(slot.base(), VirtioMmioTransport.SIZE, t);
        List<EventFd> kicks = new ArrayList<>();
        List<IoLoop.Registration> watches = new ArrayList<>();
        for (int q = 0; q < t.queueCount(); q++) {
            EventFd notify = resources.push(EventFd.create(true));
            vmFd.registerIoeventfd(notify, VmFd.IoSpace.MMIO, slot.base() + VirtioMmioTransport.QUEUE_NOTIFY_OFFSET, 4, (long) q);
            int queue = q;
            kicks.add(notify);
            allKicks.add(notify);
            watches.add(io.add(notify, () -> t.processQueue(queue)));
        }
        deviceEntries.add(slot.cmdlineEntry());
        return new Attached(t, slot, kicks, watches, irqFd);
    }

    private InterruptTrigger irqLine(int gsi) {
        return trigger(irqEventFd(gsi));
    }

    private EventFd irqEventFd(int gsi) {
        EventFd fd = resources.push(EventFd.create(true));
        vmFd.registerIrqfd(fd, gsi);
        return fd;
    }

    private InterruptTrigger trigger(EventFd fd) {
        return () -> {
            if (!resources.closing()) {
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

    private static Path realPath(Path p) {
        try {
            return p.toRealPath();
        } catch (IOException e) {
            return p.toAbsolutePath().normalize();
        }
    }
}
