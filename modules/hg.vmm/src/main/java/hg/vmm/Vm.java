package hg.vmm;

import hg.kvm.CpuidEntry;
import hg.kvm.Kvm;
import hg.kvm.KvmCheck;
import hg.vmm.internal.builder.AttachedDisk;
import hg.vmm.internal.builder.BuiltVm;
import hg.vmm.internal.builder.NetCard;
import hg.vmm.internal.builder.SnapshotLoader;
import hg.vmm.internal.builder.SnapshotTaker;
import hg.vmm.internal.builder.VmBuilder;
import hg.vmm.internal.cpu.MsrsToSave;
import hg.vmm.internal.cpu.VcpuLoop;
import hg.vmm.internal.io.IoLoop;
import hg.vmm.internal.threads.Started;
import hg.vmm.internal.threads.ThreadStarter;
import hg.vmm.internal.virtio.block.BlockBackend;
import hg.vmm.internal.virtio.block.VirtioBlock;
import hg.vmm.internal.virtio.net.GuestTraffic;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * One virtual machine's lifecycle: made by {@link #create} ({@link VmBuilder} is the recipe),
 * running its vCPU threads and I/O thread, ended by {@link #destroy()} or by the guest (reset,
 * triple fault, debug exit), after which it releases everything by itself and keeps only its
 * final state and console history.
 */
public final class Vm {

    /** Guest-physical address of the boot timer page (see {@link #bootMarks()}). */
    public static final long BOOT_TIMER_ADDRESS = GuestCmdline.BOOT_MARKER_ADDRESS;

    private static final System.Logger LOG = System.getLogger("hg.vmm");

    private final int id;
    private final VmConfig config;
    private final Kvm kvm;
    /** Serialises pause, resume and snapshot: each leaves the vCPUs as the next expects them. */
    private final Object control = new Object();
    private boolean paused;
    private final Instant started = Instant.now();
    private final List<Started> threads = new CopyOnWriteArrayList<>();
    private final CountDownLatch released = new CountDownLatch(1);
    /** Completed when everything is released, before {@link #released} opens: what waits on it sees the actions done. */
    private final CompletableFuture<Void> releaseActions = new CompletableFuture<>();
    private final Object stateLock = new Object();
    private volatile VmState state = new VmState.Running();
    private volatile Instant stoppedAt;
    private boolean tearingDown;
    /** Set once, right after construction: the builder's devices call {@link #stop} through it. */
    private BuiltVm parts;

    private Vm(Kvm kvm, int id, VmConfig config) {
        this.kvm = kvm;
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
    public static Vm create(Kvm kvm, List<CpuidEntry> supportedCpuid, int id, VmConfig config) {
        return create(kvm, supportedCpuid, id, config, ThreadStarter.NEW_THREADS);
    }

    /** {@code threads} gives the VM's threads (tests make it fail to see that a half-started VM is taken down whole). */
    static Vm create(Kvm kvm, List<CpuidEntry> supportedCpuid, int id, VmConfig config, ThreadStarter threads) {
        Vm vm = new Vm(kvm, id, config);
        vm.parts = VmBuilder.build(kvm, supportedCpuid, id, config, vm::stop);
        vm.start(threads);
        return vm;
    }

    /**
     * Makes VM {@code id} from the snapshot in {@code dir} and lets it go on from where it was
     * (or leaves it paused). A snapshot that cannot be used here (damaged, another format
     * version, a disk changed since, a CPU without the guest's features) is refused with one
     * {@link VmException} line, and nothing is made.
     */
    public static Vm restore(Kvm kvm, List<CpuidEntry> supportedCpuid, int id, Path dir, boolean paused) {
        return restore(kvm, supportedCpuid, id, dir, paused, false, Optional.empty(), ThreadStarter.NEW_THREADS);
    }

    /**
     * A {@code clone} writes its disks into copy-on-write overlays of its own and takes a place of its own on the
     * guest network (the guest is told its new MAC and address by its agent, above this layer);
     * {@code vsock} is where its vsock's host socket goes (a restored VM never takes over the socket of
     * the VM it was saved from).
     */
    static Vm restore(Kvm kvm, List<CpuidEntry> supportedCpuid, int id, Path dir, boolean paused, boolean clone,
                      Optional<Path> vsock, ThreadStarter threads) {
        SnapshotLoader.Loaded loaded = SnapshotLoader.load(dir, supportedCpuid,
                kvm.tscDeadlineTimer());
        // Exactly the devices the snapshot had: a vsock when it had one (on a socket of this VM's), else none.
        VmConfig config = loaded.config();
        if (loaded.hadVsock()) {
            config = config.withVsock(vsock.orElseThrow(() -> new VmException("the snapshot in " + dir + " is of a VM "
                    + "with a vsock: give the restored VM a socket for it (a vsock directory)")));
        }
        Vm vm = new Vm(kvm, id, config);
        vm.parts = VmBuilder.restore(kvm, supportedCpuid, id, config, vm::stop, loaded.restoreFrom(clone));
        // The guest was stopped since the snapshot, for as long as the snapshot lay on disk.
        markStopped(vm.parts.loops());
        if (paused) {
            vm.paused = true;
            vm.parts.loops().forEach(VcpuLoop::pause);
        }
        vm.start(threads);
        return vm;
    }

    /** The memory a snapshot in {@code dir} would restore with, for admission before anything is made. */
    public static long snapshotMemory(Kvm kvm, List<CpuidEntry> supportedCpuid, Path dir) {
        return SnapshotLoader.load(dir, supportedCpuid, kvm.tscDeadlineTimer())
                .config().memoryBytes();
    }

    /**
     * Starts the I/O thread and one platform thread per vCPU. A thread that cannot start stops the
     * VM and releases it after joining the threads that did start, so none runs over freed memory.
     */
    private void start(ThreadStarter starter) {
        try {
            parts.io().start(starter);
            List<VcpuLoop> loops = parts.loops();
            for (int i = 0; i < loops.size(); i++) {
                threads.add(starter.start("vm" + id + "-vcpu" + i, loops.get(i)));
            }
            parts.steps().mark("threads");
        } catch (RuntimeException | Error e) {
            stop(new StopReason.InternalError("cannot start the VM's threads: " + e));
            release();
            throw new VmException("cannot start vm " + id + "'s threads: " + e.getMessage(), e);
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
        finishLoops();
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
        if (threads.stream().anyMatch(Started::isCurrentThread)) {
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
        for (Started t : threads) {
            joinKicking(t);
        }
        finishRelease();
    }

    private void joinKicking(Started t) {
        try {
            while (!t.join(Duration.ofMillis(200))) {
                // A kick can race with a thread entering KVM_RUN; kicking again is harmless.
                finishLoops();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void finishLoops() {
        for (VcpuLoop l : parts.loops()) {
            l.finish();
        }
    }

    private void finishRelease() {
        // The I/O thread first: it reads the notification eventfds and touches guest memory.
        // Then the rest in reverse order of creation: the VM fd (and its vCPUs) before the
        // memory it maps, the disk images last.
        parts.io().close();
        // Console input arrives on the caller's thread: cut it off, then wait out a call
        // that may be inside the UART (it holds the UART's monitor) before fds close.
        parts.resources().markClosing();
        parts.console().connectInput(bytes -> { });
        synchronized (parts.serial()) {
            parts.serial().pendingInput();
        }
        parts.resources().releaseAll();
        parts.console().end();
        releaseActions.complete(null);
        released.countDown();
    }

    /** Runs {@code action} once the VM has released its resources (at once if it has). */
    void whenReleased(Runnable action) {
        releaseActions.thenRun(action);
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

    /**
     * Stops every vCPU after its current exit (that exit's emulation completed) and returns once
     * all stand still; {@link #resume()} lets them go on. Devices keep serving the host side.
     */
    public void pause() {
        synchronized (control) {
            requireLive();
            pauseVcpus();
            paused = true;
            markStopped(parts.loops());
        }
    }

    /** The guest's watchdog is told the stop was the host's, not a hang of its own (where it runs kvmclock). */
    static void markStopped(List<VcpuLoop> loops) {
        for (VcpuLoop l : loops) {
            try {
                l.vcpu().markStopped();
            } catch (hg.kvm.KvmException e) {
                LOG.log(System.Logger.Level.DEBUG, "KVM_KVMCLOCK_CTRL: " + e.getMessage());
            }
        }
    }

    public void resume() {
        synchronized (control) {
            requireLive();
            paused = false;
            resumeVcpus();
        }
    }

    private void requireLive() {
        if (state instanceof VmState.Stopped) {
            throw new VmException("vm " + id + " has stopped");
        }
    }

    private void pauseVcpus() {
        for (VcpuLoop l : parts.loops()) {
            l.pause();
        }
        try {
            for (VcpuLoop l : parts.loops()) {
                l.awaitPaused();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new VmException("interrupted while pausing vm " + id);
        }
    }

    private void resumeVcpus() {
        for (VcpuLoop l : parts.loops()) {
            l.resume();
        }
    }

    /**
     * Writes a snapshot of this VM into {@code dir} (made if missing): the vCPUs pause and the I/O
     * thread stands still while state, memory and disks are written, then the VM goes on as it
     * was (running or paused). One {@link VmException} line on failure; the VM goes on then too.
     */
    public SnapshotInfo snapshot(Path dir) {
        return snapshot(dir, false);
    }

    /** With {@code share} the VM goes on over the snapshot's memory file, sharing its clean pages with clones of it. */
    SnapshotInfo snapshot(Path dir, boolean share) {
        if (!config.shares().isEmpty()) {
            // The guest's open files on a share are the VMM's file descriptors, which a snapshot cannot keep.
            throw new VmException("vm " + id + " has shared folders: such a VM cannot be snapshotted or cloned yet");
        }
        if (config.hostTap().isPresent()) {
            // A restore would need the caller's TAP back under the same name, which a snapshot cannot promise.
            throw new VmException("vm " + id + " has its network card on the caller's TAP " + config.hostTap().get().name()
                    + ": such a VM cannot be snapshotted yet");
        }
        synchronized (control) {
            requireLive();
            long start = System.nanoTime();
            pauseVcpus();
            IoLoop.Hold still = parts.io().hold();
            try {
                SnapshotTaker.Taken t = SnapshotTaker.take(parts, config, MsrsToSave.of(kvm), dir, share);
                return new SnapshotInfo(dir, t.memoryBytes(), t.memoryDataBytes(), t.diskBytes(),
                        Duration.ofNanos(System.nanoTime() - start));
            } finally {
                still.close();
                if (!paused) {
                    resumeVcpus();
                }
            }
        }
    }

    /**
     * Puts disk {@code index} (0 is vda) on {@code file}, in the mode it had, while the guest runs: the device
     * stands still for the swap, the old file is closed and unlocked, and the guest's driver is told to read
     * the new capacity. Firecracker's clients swap placeholder drives so. One {@link VmException} line when the
     * file cannot be opened or locked; the disk stays on its file then.
     */
    public void replaceDisk(int index, Path file) {
        synchronized (control) {
            requireLive();
            if (index < 0 || index >= parts.disks().size()) {
                throw new VmException("vm " + id + " has no disk " + index + " (it has " + parts.disks().size() + ")");
            }
            AttachedDisk d = parts.disks().get(index);
            BlockBackend next;
            try {
                next = parts.resources().push(VmBuilder.openImage(file, d.info().readOnly()));
            } catch (java.io.IOException | RuntimeException e) {
                throw new VmException("cannot open disk image " + file + ": " + e.getMessage(), e);
            }
            BlockBackend old;
            IoLoop.Hold still = parts.io().hold();
            try {
                old = d.device().replace(next);
            } finally {
                still.close();
            }
            parts.disks().set(index, new AttachedDisk(new VmDisk(d.info().device(), file, d.info().readOnly()),
                    d.transport(), d.device(), next));
            d.transport().configChanged();
            // Still on the resource stack too: closing an image again at the VM's end does nothing.
            old.close();
        }
    }

    /**
     * Presses CTRL+ALT+DEL on the guest's keyboard (the i8042): a guest whose keyboard driver listens shuts
     * down or reboots as its init decides. Returns false when the controller's buffer had no room.
     */
    public boolean sendCtrlAltDel() {
        requireLive();
        return parts.machine().i8042().pressCtrlAltDel();
    }

    public int id() {
        return id;
    }

    public VmConfig config() {
        return config;
    }

    public VmState state() {
        VmState s = state;
        return s instanceof VmState.Running && paused ? new VmState.Paused() : s;
    }

    public Console console() {
        return parts.console();
    }

    /** The kernel command line the guest was given. */
    public String cmdline() {
        return parts.cmdline();
    }

    /** Time since creation, or from creation to the stop. */
    public Duration uptime() {
        Instant end = stoppedAt;
        return Duration.between(started, end == null ? Instant.now() : end);
    }

    public VmInfo info() {
        return new VmInfo(id, config.kernel(), parts.disks().stream().map(AttachedDisk::info).toList(), config.vcpus(),
                config.memoryBytes(), state(), uptime(), parts.net().map(NetCard::info), counters(), config.vsock(),
                config.shares(), hugePages());
    }

    /**
     * What backs the guest's memory when it is huge pages: "2M hugetlbfs" or "THP" (transparent huge pages,
     * where the hugetlbfs pool had too few free); empty for 4 KiB pages, which a restored VM always has
     * (its memory is the snapshot file's pages).
     */
    public String hugePages() {
        return switch (parts.machine().memory().backing()) {
            case HUGETLB_2M -> "2M hugetlbfs";
            case TRANSPARENT_HUGE_PAGES -> "THP";
            case PAGES -> "";
        };
    }

    /**
     * What the VM did so far, read without stopping anything: each count is recent, the five are
     * not one instant's. A restored VM counts from 0.
     */
    public VmCounters counters() {
        long exits = 0;
        for (VcpuLoop l : parts.loops()) {
            exits += l.exits();
        }
        long read = 0, written = 0;
        for (AttachedDisk d : parts.disks()) {
            VirtioBlock.Transferred t = d.device().transferred();
            read += t.readBytes();
            written += t.writtenBytes();
        }
        GuestTraffic net = parts.net().map(NetCard::traffic).orElse(GuestTraffic.NONE);
        return new VmCounters(exits, read, written, net.rxBytes(), net.txBytes());
    }

    /**
     * What making this VM cost the thread that made it, step by step (CPU time): its own threads'
     * work after they started is theirs, not in it.
     */
    public List<CreateStep> createSteps() {
        return parts.steps().steps();
    }

    /**
     * The CPU time vCPU 0's thread had used in its whole life when the guest's first exit reached it;
     * empty before. The threads are kept from VM to VM: with the thread's time read before the create,
     * this is what the vCPU's side of making the VM cost, up to the guest's first instructions.
     */
    public OptionalLong vcpuThreadCpuAtFirstExit() {
        long cpu = parts.loops().getFirst().cpuAtFirstExit();
        return cpu < 0 ? OptionalLong.empty() : OptionalLong.of(cpu);
    }

    /**
     * Times since creation at which the guest wrote to {@link #BOOT_TIMER_ADDRESS}, in order,
     * as (value written, time): the guest's init does {@code devmem 0xd0f00000 8 <n>}.
     */
    public List<Map.Entry<Long, Duration>> bootMarks() {
        return parts.bootTimer().marks().stream().map(m -> Map.entry(m.value(), m.sinceCreate())).toList();
    }

    /** The root disk's failure (DEVICE_NEEDS_RESET reason), if the guest's driver broke it. */
    public Optional<String> diskFailure() {
        return parts.disks().stream().findFirst().flatMap(AttachedDisk::failure);
    }

    /** The VM's I/O thread (for tests). */
    IoLoop ioLoop() {
        return parts.io();
    }

    @Override
    public String toString() {
        return "vm " + id + " (" + state + ")";
    }
}
