package hg.firecracker;

import hg.firecracker.Bodies.BootSource;
import hg.firecracker.Bodies.Drive;
import hg.firecracker.Bodies.Entropy;
import hg.firecracker.Bodies.LoggerConfig;
import hg.firecracker.Bodies.MachineConfig;
import hg.firecracker.Bodies.MetricsConfig;
import hg.firecracker.Bodies.NetIface;
import hg.firecracker.Bodies.PartialDrive;
import hg.firecracker.Bodies.PartialNetIface;
import hg.firecracker.Bodies.SnapshotCreate;
import hg.firecracker.Bodies.SnapshotLoad;
import hg.api.internal.ApiException;
import hg.host.CheckedMachines;
import hg.host.HostException;
import hg.host.Machines;
import hg.host.Machines.Counters;
import hg.host.Machines.State;
import hg.host.Sizes;
import hg.vmm.GuestCmdline;
import hg.vmm.StopReason;
import hg.vmm.Vm;
import hg.vmm.VmConfig;
import hg.vmm.VmException;
import hg.vmm.VmManager;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The one microVM of this process, as Firecracker keeps it: resources configured before {@code InstanceStart}
 * (each refused after it), then a running VM (pause, resume, snapshot, CTRL+ALT+DEL, metrics), and the end of
 * the process when its guest ends. Requests are served one at a time, as Firecracker's VMM thread serves them.
 *
 * <p>VMs are made, paused, snapshotted and restored through the host's checked {@link Machines}, so the refusals
 * are the shell's and the daemon's; what only a VM handle does (wait for its end, press keys on its keyboard) is
 * asked of the {@link VmManager} beneath them.
 */
final class Microvm implements AutoCloseable {
    /** What goes with the VM: where its serial console goes and comes from, and the boot timer's log line. */
    record Options(OutputStream serialOut, InputStream serialIn, boolean bootTimer) {}

    /** How often the metrics are flushed by themselves once the VM runs, as Firecracker does. */
    private static final Duration METRICS_PERIOD = Duration.ofSeconds(60);
    /** Firecracker's guest drives plus the rng and the network card fit hyper-gen's virtio slots. */
    private static final int MAX_DRIVES = VmConfig.MAX_VIRTIO_DEVICES - 2;

    private final String instanceId;
    private final FcLog log;
    private final Options options;
    private final VmManager manager;
    private final Machines machines;
    private final LongSupplier startupMicros;
    private final CompletableFuture<Integer> exit = new CompletableFuture<>();
    private final ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().daemon().name("fc-metrics").factory());

    private MachineConfig machine = MachineConfig.DEFAULT;
    private BootSource boot;
    private final Map<String, Drive> drives = new LinkedHashMap<>();
    private final Map<String, NetIface> nets = new LinkedHashMap<>();
    private LoggerConfig logger;
    private Entropy entropy;
    private Bodies.Vsock vsock;
    private FcMetrics metrics;
    /** The VM's id with {@link #machines}, 0 before InstanceStart. */
    private int vmId;
    private volatile String ended;
    private Machines.Console console;

    Microvm(String instanceId, FcLog log, Options options, VmManager manager, Machines machines,
            LongSupplier startupMicros) {
        this.instanceId = instanceId;
        this.log = log;
        this.options = options;
        this.manager = manager;
        this.machines = machines;
        this.startupMicros = startupMicros;
    }

    /** Completes with the process's exit code when the guest has ended. */
    CompletableFuture<Integer> exit() {
        return exit;
    }

    String instanceId() {
        return instanceId;
    }

    // ---- what GET answers

    /** Firecracker's state names: "Not started", "Running", "Paused". */
    synchronized String state() {
        if (vmId == 0) {
            return "Not started";
        }
        return vmState() instanceof State.Paused ? "Paused" : "Running";
    }

    synchronized boolean started() {
        return vmId != 0;
    }

    synchronized MachineConfig machineConfig() {
        return machine;
    }

    /** Everything configured, as GET /vm/config and a config file show it. */
    synchronized FullConfig fullConfig() {
        return new FullConfig(boot, machine, List.copyOf(drives.values()), List.copyOf(nets.values()), logger,
                metrics == null ? null : metrics.config(), entropy, vsock);
    }

    record FullConfig(BootSource boot, MachineConfig machine, List<Drive> drives, List<NetIface> nets,
                      LoggerConfig logger, MetricsConfig metrics, Entropy entropy, Bodies.Vsock vsock) {}

    // ---- before InstanceStart

    synchronized void putMachineConfig(MachineConfig m) throws FcException {
        preBoot();
        m.check();
        machine = m;
    }

    synchronized void putBootSource(BootSource b) throws FcException {
        preBoot();
        if (!Files.isReadable(Path.of(b.kernelImagePath())) || Files.isDirectory(Path.of(b.kernelImagePath()))) {
            throw new FcException("Boot source error: The kernel file cannot be opened: " + b.kernelImagePath()
                    + ": No such file or directory (os error 2)");
        }
        if (b.initrdPath() != null && (!Files.isReadable(Path.of(b.initrdPath())) || Files.isDirectory(Path.of(b.initrdPath())))) {
            throw new FcException("Boot source error: The initrd file cannot be opened: " + b.initrdPath()
                    + ": No such file or directory (os error 2)");
        }
        boot = b;
    }

    synchronized void putDrive(String pathId, Drive d) throws FcException {
        preBoot();
        sameId(pathId, d.driveId());
        for (Drive other : drives.values()) {
            if (d.isRootDevice() && other.isRootDevice() && !other.driveId().equals(d.driveId())) {
                throw new FcException("Drive config error: A root block device already exists!");
            }
        }
        Path p = Path.of(d.pathOnHost());
        if (!Files.isRegularFile(p)) {
            throw new FcException("Drive config error: Unable to open the block device backing file: " + d.pathOnHost()
                    + ": " + (Files.exists(p) ? "not a regular file" : "No such file or directory (os error 2)"));
        }
        if (!drives.containsKey(d.driveId()) && drives.size() == MAX_DRIVES) {
            throw new FcException("Drive config error: a microVM takes at most " + MAX_DRIVES + " drives here");
        }
        drives.put(d.driveId(), d);
        // The root device goes first, as Firecracker attaches it (the guest sees it as vda).
        if (d.isRootDevice()) {
            Map<String, Drive> reordered = new LinkedHashMap<>();
            reordered.put(d.driveId(), d);
            reordered.putAll(drives);
            drives.clear();
            drives.putAll(reordered);
        }
    }

    synchronized void putNet(String pathId, NetIface n) throws FcException {
        preBoot();
        sameId(pathId, n.ifaceId());
        if (!nets.containsKey(n.ifaceId()) && !nets.isEmpty()) {
            throw FcException.notSupported("a second network interface (hyper-gen gives a microVM one network card; "
                    + "it has " + nets.keySet().iterator().next() + ")");
        }
        mac(n.guestMac());
        try {
            new VmConfig.HostTap(n.hostDevName(), Optional.empty());
        } catch (RuntimeException e) {
            throw new FcException("Network interface error: " + e.getMessage());
        }
        nets.put(n.ifaceId(), n);
    }

    synchronized void putLogger(LoggerConfig l) throws FcException {
        preBoot();
        LineSink sink = null;
        if (l.logPath() != null) {
            try {
                sink = LineSink.open(Path.of(l.logPath()));
            } catch (IOException | RuntimeException e) {
                throw new FcException("Logger error: Failed to open target file: " + e.getMessage());
            }
        }
        try {
            log.configure(sink, LogLevel.parse(l.level()), l.showLevel(), l.showLogOrigin());
        } catch (ApiException e) {
            throw new FcException("Logger error: " + e.getMessage());
        }
        logger = l;
        log.info("Running Firecracker v" + Main.FIRECRACKER_VERSION + " (hyper-gen " + Main.hyperGenVersion() + ")");
    }

    synchronized void putMetrics(MetricsConfig m) throws FcException {
        preBoot();
        if (metrics != null) {
            throw new FcException("Metrics error: Reinitialization of metrics not allowed.");
        }
        LineSink sink;
        try {
            sink = LineSink.open(Path.of(m.metricsPath()));
        } catch (IOException | RuntimeException e) {
            throw new FcException("Metrics error: Cannot initialize the metrics system due to bad user input: "
                    + e.getMessage());
        }
        metrics = new FcMetrics(sink, m, instanceId, startupMicros);
    }

    synchronized void putEntropy(Entropy e) throws FcException {
        preBoot();
        entropy = e;
    }

    synchronized void putVsock(Bodies.Vsock v) throws FcException {
        preBoot();
        vsock = v;
    }

    // ---- actions

    synchronized void start() throws FcException {
        preBoot();
        if (boot == null) {
            throw new FcException("Start microvm error: Cannot start microvm without kernel configuration.");
        }
        Drive root = drives.values().stream().filter(Drive::isRootDevice).findFirst().orElse(null);
        List<Machines.Disk> data = new ArrayList<>();
        for (Drive d : drives.values()) {
            if (d != root) {
                data.add(new Machines.Disk(Path.of(d.pathOnHost()), d.isReadOnly()));
            }
        }
        String args = boot.bootArgs() == null ? "" : boot.bootArgs();
        // Firecracker's guest has a serial port and nothing else to print on: without a console= of its own
        // it gets ttyS0, as Linux gives it the first console there is, not hyper-gen's default virtio console.
        StringBuilder cmdline = new StringBuilder(GuestCmdline.namesConsole(args) ? args : "console=ttyS0 " + args);
        if (root != null && root.partuuid() != null) {
            cmdline.append(" root=PARTUUID=").append(root.partuuid());
        }
        Optional<VmConfig.HostTap> tap = Optional.empty();
        for (NetIface n : nets.values()) {
            tap = Optional.of(new VmConfig.HostTap(n.hostDevName(), Optional.ofNullable(mac(n.guestMac()))));
        }
        Machines.Spec spec = new Machines.Spec(Path.of(boot.kernelImagePath()),
                root == null ? null : Path.of(root.pathOnHost()), machine.memSizeMib() * Sizes.MIB, machine.vcpuCount(),
                cmdline.toString().strip(), root != null && root.isReadOnly(), data, tap.isPresent(), true,
                Optional.ofNullable(boot.initrdPath()).map(Path::of), tap,
                Optional.ofNullable(vsock).map(v -> Path.of(v.udsPath()).toAbsolutePath()), List.of(),
                "2M".equals(machine.hugePages()));
        int id;
        try {
            id = machines.create(spec);
        } catch (HostException e) {
            throw new FcException("Start microvm error: " + e.getMessage());
        }
        running(id, "InstanceStart");
    }

    /** The VM {@code id} runs: its console goes to the process's, and its end ends the process. */
    private void running(int id, String how) {
        vmId = id;
        try {
            console = machines.attach(id, options.serialOut());
        } catch (HostException e) {
            log.warn("the guest's serial console is not connected: " + e.getMessage());
        }
        if (options.serialIn() != null && console != null) {
            Machines.Console c = console;
            Thread.ofPlatform().daemon().name("fc-serial-in").start(() -> pumpInput(c));
        }
        if (metrics != null) {
            ticker.scheduleAtFixedRate(this::periodicFlush, METRICS_PERIOD.toMillis(), METRICS_PERIOD.toMillis(),
                    TimeUnit.MILLISECONDS);
        }
        Vm vm = manager.get(id).orElseThrow();
        Thread.ofPlatform().daemon().name("fc-vm-watch").start(() -> watch(vm));
        log.info("The microVM started (" + how + "): " + machine.vcpuCount() + " vCPUs, " + machine.memSizeMib()
                + " MiB");
    }

    private void pumpInput(Machines.Console c) {
        byte[] buf = new byte[256];
        try {
            for (int n; (n = options.serialIn().read(buf)) > 0; ) {
                c.input(java.util.Arrays.copyOf(buf, n));
            }
        } catch (IOException | HostException e) {
            // stdin closed or the VM gone: the guest hears no more
        }
    }

    /** Waits for the guest's end (logging the boot timer's mark on the way) and completes {@link #exit}. */
    private void watch(Vm vm) {
        boolean marked = !options.bootTimer();
        try {
            Optional<StopReason> reason;
            while ((reason = vm.awaitStop(marked ? Duration.ofDays(1) : Duration.ofMillis(20))).isEmpty()) {
                if (!marked && !vm.bootMarks().isEmpty()) {
                    long us = vm.bootMarks().getFirst().getValue().toNanos() / 1000;
                    log.info("Guest-boot-time = " + us + " us " + us / 1000 + " ms");
                    marked = true;
                }
            }
            ended(reason.get());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void ended(StopReason reason) {
        int code = switch (reason) {
            // The guest rebooted or powered off, or this process was told to end it: Firecracker's Ok.
            case StopReason.GuestReset r -> 0;
            case StopReason.Shutdown s -> 0;
            case StopReason.DebugExit d -> 0;
            case StopReason.Destroyed d -> 0;
            // The VMM failed the guest: Firecracker's GenericError.
            case StopReason.InternalError e -> 1;
        };
        ended = reason.toString();
        log.log(code == 0 ? LogLevel.INFO : LogLevel.ERROR, "Vmm is stopping: the guest ended (" + reason + ")");
        synchronized (this) {
            flushQuietly();
        }
        exit.complete(code);
    }

    synchronized void sendCtrlAltDel() throws FcException {
        Vm vm = liveVm();
        if (!vm.sendCtrlAltDel()) {
            throw new FcException("Internal VMM error: i8042 error: the keyboard buffer is full");
        }
    }

    synchronized void flushMetrics() throws FcException {
        liveVm();
        if (metrics == null) {
            throw new FcException("Internal VMM error: the metrics system is not configured (PUT /metrics first)");
        }
        metrics.flush(counters());
    }

    private synchronized void periodicFlush() {
        if (ended == null) {
            flushQuietly();
        }
    }

    private void flushQuietly() {
        if (metrics != null && vmId != 0) {
            metrics.flush(counters());
        }
    }

    private Counters counters() {
        return machines.list().stream().filter(i -> i.id() == vmId).findFirst().map(Machines.Info::counters)
                .orElse(Counters.NONE);
    }

    synchronized void setPaused(boolean pause) throws FcException {
        liveVm();
        State s = vmState();
        try {
            if (pause && s instanceof State.Running) {
                machines.pause(vmId);
            } else if (!pause && s instanceof State.Paused) {
                machines.resume(vmId);
            }
        } catch (HostException e) {
            throw new FcException("Internal VMM error: " + e.getMessage());
        }
    }

    // ---- after InstanceStart

    synchronized void patchDrive(String pathId, PartialDrive p) throws FcException {
        if (vmId == 0) {
            throw FcException.notBeforeStart();
        }
        sameId(pathId, p.driveId());
        liveVm();
        Drive d = drives.get(p.driveId());
        if (d == null) {
            throw new FcException("Drive config error: Invalid block device ID!");
        }
        if (p.pathOnHost() != null && !Path.of(p.pathOnHost()).equals(Path.of(d.pathOnHost()))) {
            d = swap(d, Path.of(p.pathOnHost()));
        }
        if (p.rateLimiter() != null) {
            d = d.withRateLimiter(p.rateLimiter());
        }
        drives.put(d.driveId(), d);
    }

    /**
     * Puts drive {@code d} of the running VM on {@code file} (Kata's placeholder drives get their container's
     * disk so): the guest's device stays, its file and capacity change. Drives are the VM's disks in the order
     * they were given, the root device first.
     */
    private Drive swap(Drive d, Path file) throws FcException {
        if (!Files.isRegularFile(file)) {
            throw new FcException("Drive config error: Unable to open the block device backing file: " + file + ": "
                    + (Files.exists(file) ? "not a regular file" : "No such file or directory (os error 2)"));
        }
        try {
            CheckedMachines.refuseHeld(machines.list(), new Machines.Disk(file, d.isReadOnly()),
                    file.getFileName().toString(), "attach it read-only");
            liveVm().replaceDisk(List.copyOf(drives.keySet()).indexOf(d.driveId()), file);
        } catch (HostException | VmException e) {
            throw new FcException("Drive config error: " + e.getMessage());
        }
        log.info("drive " + d.driveId() + " is now on " + file);
        return d.withPath(file.toString());
    }

    synchronized void patchNet(String pathId, PartialNetIface p) throws FcException {
        if (vmId == 0) {
            throw FcException.notBeforeStart();
        }
        sameId(pathId, p.ifaceId());
        liveVm();
        NetIface n = nets.get(p.ifaceId());
        if (n == null) {
            throw new FcException("Network interface error: Invalid interface ID - not found.");
        }
        nets.put(n.ifaceId(), n.withLimiters(p.rx(), p.tx()));
    }

    /** A snapshot of the paused VM, in {@link SnapshotFiles}' shape. */
    synchronized void createSnapshot(SnapshotCreate c) throws FcException {
        liveVm();
        if (!c.snapshotType().equals("Full")) {
            throw FcException.notSupported("snapshot_type " + c.snapshotType() + " (hyper-gen writes Full snapshots; "
                    + "all-zero pages are left as holes)");
        }
        if (!(vmState() instanceof State.Paused)) {
            throw new FcException("Create snapshot error: the microVM must be paused first (PATCH /vm {\"state\": \"Paused\"})");
        }
        SnapshotFiles files = SnapshotFiles.of(c.snapshotPath(), c.memFilePath());
        files.checkForCreate();
        try {
            machines.snapshot(vmId, files.dir(), false);
        } catch (HostException e) {
            throw new FcException("Create snapshot error: " + e.getMessage());
        }
        files.linkMemory();
        log.info("snapshot of the microVM in " + files.dir());
    }

    synchronized void loadSnapshot(SnapshotLoad l) throws FcException {
        preBoot();
        if (boot != null || !drives.isEmpty() || !nets.isEmpty()) {
            throw new FcException("Loading a microVM snapshot not allowed after configuring boot-specific resources.");
        }
        if (!l.overriddenInterfaces().isEmpty()) {
            throw FcException.notSupported("network_overrides (a snapshot's network card goes back on its own place)");
        }
        SnapshotFiles files = SnapshotFiles.of(l.snapshotPath(), l.memPath());
        files.checkForLoad();
        int id;
        try {
            id = machines.restore(files.dir(), !l.resume());
        } catch (HostException e) {
            throw new FcException("Load snapshot error: " + e.getMessage());
        }
        manager.get(id).ifPresent(vm -> machine = new MachineConfig(vm.config().vcpus(),
                vm.config().memoryBytes() / Sizes.MIB, false, false, "None", null));
        running(id, "snapshot load");
    }

    // ---- checks

    private void preBoot() throws FcException {
        if (vmId != 0) {
            throw FcException.notAfterStart();
        }
    }

    private Vm liveVm() throws FcException {
        if (vmId == 0) {
            throw FcException.notBeforeStart();
        }
        String why = ended;
        Optional<Vm> vm = manager.get(vmId);
        if (why != null || vm.isEmpty()) {
            throw new FcException("The microVM has stopped (" + (why != null ? why : "gone")
                    + "); this process is ending.");
        }
        return vm.get();
    }

    private State vmState() {
        return machines.list().stream().filter(i -> i.id() == vmId).findFirst().map(Machines.Info::state)
                .orElse(new State.Stopped("gone"));
    }

    private static void sameId(String pathId, String bodyId) throws FcException {
        if (!pathId.equals(bodyId)) {
            throw new FcException("The id from the path does not match the id from the body!");
        }
    }

    /** A MAC as Firecracker writes it (six hex pairs with colons), or null. */
    private static byte[] mac(String text) throws FcException {
        if (text == null) {
            return null;
        }
        if (!text.matches("(\\p{XDigit}{2}:){5}\\p{XDigit}{2}")) {
            throw new FcException("Network interface error: The MAC address is invalid: " + text);
        }
        return HexFormat.ofDelimiter(":").parseHex(text);
    }

    /** Ends the VM (if any) and what writes for it. */
    @Override
    public void close() {
        ticker.shutdownNow();
        if (console != null) {
            console.close();
        }
        machines.close();
        synchronized (this) {
            if (metrics != null) {
                metrics.close();
            }
        }
        log.close();
    }
}
