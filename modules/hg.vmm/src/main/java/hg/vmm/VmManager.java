package hg.vmm;

import hg.kvm.CpuidEntry;
import hg.kvm.Kvm;
import hg.kvm.KvmException;
import hg.kvm.VmFd;
import hg.vmm.internal.threads.WorkerPool;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The VMs of this process, by id (1, 2, ...). Each VM is isolated: one that stops (reset,
 * triple fault, panic) leaves the others running; it stays listed with its reason until
 * destroyed. Every create goes through a {@link MemoryAdmission}: the guest memory of running
 * VMs together stays within what the host can give them, unless this manager overcommits.
 */
public final class VmManager implements AutoCloseable {

    private final Map<Integer, Vm> vms = new ConcurrentSkipListMap<>();
    private final AtomicInteger nextId = new AtomicInteger(1);
    private Kvm kvm;
    /**
     * An empty VM, held while /dev/kvm is open. KVM hooks itself into the scheduler (preempt notifiers, a
     * static key) when the host's first VM is made and out when its last goes, and each switch patches the
     * kernel's text with an interrupt to every CPU: on a host with no other VM that was about a sixth of
     * each create's KVM_CREATE_VM, and the same again in each destroy. Null where KVM refused it (nothing
     * depends on it).
     */
    private VmFd keepHooked;
    private List<CpuidEntry> supportedCpuid;
    private int maxVcpus;
    private boolean closed;

    /** Clones made at once from one VM, at most. */
    public static final int MAX_CLONES = 64;

    private final MemoryAdmission memory;
    /**
     * The VMs' threads, kept for the next VM when one ends: a handful (a VM needs one per vCPU and one for I/O),
     * for a minute, so a burst of creates reuses them and an idle VMM keeps none.
     */
    private final WorkerPool threads = new WorkerPool(16, Duration.ofMinutes(1));
    private Path cloneRoot = Path.of(System.getProperty("java.io.tmpdir"), "hyper-gen-clones");
    private final boolean overcommit;
    private volatile Path vsockDir;

    /** No VM yet; /dev/kvm is opened at the first create. Memory is this process's account, without overcommit. */
    public VmManager() {
        this(MemoryAdmission.forThisProcess(), false);
    }

    /**
     * @param memory     the account every create goes through; share one between managers of one host
     * @param overcommit admit VMs whatever the guest memory promised to running VMs (they still count)
     */
    public VmManager(MemoryAdmission memory, boolean overcommit) {
        this.memory = memory;
        this.overcommit = overcommit;
    }

    public MemoryAdmission memory() {
        return memory;
    }

    public boolean overcommit() {
        return overcommit;
    }

    /**
     * The most vCPUs a VM may have here: KVM's limit (KVM_CAP_MAX_VCPUS, else KVM_CAP_NR_VCPUS) within
     * {@link VmConfig#MAX_VCPUS}. Opens /dev/kvm if it is not open yet.
     */
    public synchronized int maxVcpus() {
        kvm();
        return maxVcpus;
    }

    private synchronized Kvm kvm() {
        if (closed) {
            throw new VmException("the VM manager is closed");
        }
        if (kvm == null) {
            try {
                kvm = Kvm.open();
                supportedCpuid = kvm.supportedCpuid();
                int limit = kvm.maxVcpusPerVm();
                maxVcpus = limit > 0 ? Math.min(limit, VmConfig.MAX_VCPUS) : VmConfig.MAX_VCPUS;
                keepHooked = emptyVm(kvm);
            } catch (KvmException e) {
                throw new VmException("cannot open /dev/kvm: " + e.getMessage(), e);
            }
        }
        return kvm;
    }

    private static VmFd emptyVm(Kvm kvm) {
        try {
            return kvm.createVm();
        } catch (KvmException e) {
            System.getLogger(VmManager.class.getName()).log(System.Logger.Level.DEBUG,
                    "no empty VM to keep KVM's scheduler hooks on: " + e.getMessage());
            return null;
        }
    }

    /**
     * Creates and starts a VM; returns its id. Throws {@link VmException} naming the problem: a
     * {@link MemoryRefusedException} when its memory does not fit beside the running VMs'.
     * Creations are serialised (each takes a few milliseconds) so none can slip past {@link #close()}.
     */
    public synchronized int create(VmConfig config) {
        Kvm k = kvm();
        // Up front, before any memory or fd is taken; VmBuilder checks again on the VM's own fd.
        if (config.vcpus() > maxVcpus) {
            throw new VmException("this host runs at most " + maxVcpus + " vCPUs per VM (KVM's limit), not " + config.vcpus());
        }
        MemoryAdmission.Promise promise = memory.admit(config.memoryBytes(), overcommit);
        int id = nextId.getAndIncrement();
        Vm vm;
        try {
            vm = Vm.create(k, supportedCpuid, id, config.vsock().isEmpty() ? vsockFor(id).map(config::withVsock).orElse(config)
                    : config, threads);
        } catch (RuntimeException | Error e) {
            promise.close();
            // A refused create leaves no gap in the ids, unless another create took a later one meanwhile.
            nextId.compareAndSet(id + 1, id);
            throw e;
        }
        // The memory is unmapped when the VM is released: by vm_destroy, or by itself when its guest ends.
        vm.whenReleased(promise::close);
        vms.put(id, vm);
        return id;
    }

    /**
     * Restores the snapshot in {@code dir} as a new VM (running, or paused when asked); returns
     * its id. Refusals are one {@link VmException} line: an unusable snapshot, memory that does
     * not fit beside the running VMs', a network place in use.
     */
    public int restore(Path dir, boolean paused) {
        return restore(dir, paused, false, null, Optional.empty());
    }

    /** {@code vsockBeside}: where a clone's vsock socket goes when no vsock directory is set (its parent's). */
    private synchronized int restore(Path dir, boolean paused, boolean clone, FrozenImage image,
                                     Optional<Path> vsockBeside) {
        Kvm k = kvm();
        long bytes = Vm.snapshotMemory(k, supportedCpuid, dir);
        MemoryAdmission.Promise promise = memory.admit(bytes, overcommit);
        int id = nextId.getAndIncrement();
        Vm vm;
        try {
            vm = Vm.restore(k, supportedCpuid, id, dir, paused, clone, vsockFor(id, vsockBeside), threads);
        } catch (RuntimeException | Error e) {
            promise.close();
            nextId.compareAndSet(id + 1, id);
            throw e;
        }
        vm.whenReleased(promise::close);
        if (image != null) {
            image.retain();
            vm.whenReleased(image::release);
        }
        vms.put(id, vm);
        return id;
    }

    /** Writes a snapshot of VM {@code id} into {@code dir}; with {@code stop} the VM is destroyed once it is written. */
    public SnapshotInfo snapshot(int id, Path dir, boolean stop) {
        Vm vm = require(id);
        boolean wasRunning = vm.state() instanceof VmState.Running;
        if (stop) {
            // Paused first, so the guest does nothing between the snapshot and its end.
            vm.pause();
        }
        SnapshotInfo info;
        try {
            info = vm.snapshot(dir);
        } catch (VmException e) {
            if (stop && wasRunning) {
                vm.resume();   // nothing was written: the VM goes on as it was
            }
            throw e;
        }
        if (stop) {
            destroy(id);
        }
        return info;
    }

    /** Pauses VM {@code id}: its vCPUs stand still until {@link #resume}. */
    public void pause(int id) {
        require(id).pause();
    }

    public void resume(int id) {
        require(id).resume();
    }

    /**
     * Makes {@code count} running clones of VM {@code id} (running or paused; it goes on as it
     * was) and returns their ids. The clones map one frozen copy of its memory (pages none of
     * them wrote are held once) and see its disks through copy-on-write overlays of their own.
     * A networked clone gets a place of its own on the bridge (a new TAP, MAC and address), which its guest
     * still has to be told of: its agent, over vsock, is how (above this layer), so a networked VM without a
     * vsock is refused. Until then the bridge's filter drops what the clone sends with its parent's MAC.
     */
    public List<Integer> clone(int id, int count) {
        if (count < 1 || count > MAX_CLONES) {
            throw new VmException("a clone count is 1 to " + MAX_CLONES + ", not " + count);
        }
        Vm source = require(id);
        if (source.config().net() && source.config().vsock().isEmpty()) {
            throw new VmException("vm " + id + " has a network card and no vsock: its clones could not be told their"
                    + " own MAC and address by its agent; clone a VM made with --vsock, or with --no-net");
        }
        Path frozen;
        try {
            Files.createDirectories(cloneRoot);
            frozen = Files.createTempDirectory(cloneRoot, "vm" + id + "-",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (IOException e) {
            throw new VmException("cannot make a directory for vm " + id + "'s clones in " + cloneRoot + ": " + e.getMessage(), e);
        }
        FrozenImage image = new FrozenImage(frozen);
        List<Integer> made = new ArrayList<>();
        try {
            source.snapshot(frozen, true);
            for (int i = 0; i < count; i++) {
                made.add(restore(frozen, false, true, image, source.config().vsock()));
            }
            return made;
        } catch (RuntimeException e) {
            for (int clone : made) {
                destroy(clone);
            }
            throw e;
        } finally {
            image.release();
        }
    }

    /**
     * Gives every VM made from here on a vsock whose host socket is {@code vm<ID>.vsock} in {@code dir}
     * (unless its configuration names one); without it, only VMs whose configuration names a socket have one.
     */
    public void vsockDirectory(Path dir) {
        vsockDir = dir;
    }

    private Optional<Path> vsockFor(int id) {
        return vsockFor(id, Optional.empty());
    }

    /** With no vsock directory set, a socket beside {@code beside} (a clone's beside its parent's), if given. */
    private Optional<Path> vsockFor(int id, Optional<Path> beside) {
        Path dir = vsockDir != null ? vsockDir : beside.map(Path::toAbsolutePath).map(Path::getParent).orElse(null);
        return dir == null ? Optional.empty() : Optional.of(dir.resolve("vm" + id + ".vsock"));
    }

    /** Where clones' frozen images live (a directory per cloned VM, removed with its last clone). */
    public void cloneDirectory(Path dir) {
        cloneRoot = dir;
    }

    /** Snapshots of every VM, by id. */
    public List<VmInfo> list() {
        List<VmInfo> out = new ArrayList<>();
        for (Vm vm : vms.values()) {
            out.add(vm.info());
        }
        return out;
    }

    public Optional<Vm> get(int id) {
        return Optional.ofNullable(vms.get(id));
    }

    /** The VM with this id, or a {@link VmException} saying there is none. */
    public Vm require(int id) {
        Vm vm = vms.get(id);
        if (vm == null) {
            throw new VmException("no VM with id " + id);
        }
        return vm;
    }

    /** Stops the VM, frees everything it held and forgets it. */
    public void destroy(int id) {
        Vm vm = vms.remove(id);
        if (vm == null) {
            throw new VmException("no VM with id " + id);
        }
        vm.destroy();
    }

    /** Destroys every VM and closes /dev/kvm. */
    @Override
    public synchronized void close() {
        closed = true;
        for (Integer id : new ArrayList<>(vms.keySet())) {
            Vm vm = vms.remove(id);
            if (vm != null) {
                vm.destroy();
            }
        }
        threads.close();
        if (keepHooked != null) {
            keepHooked.close();
            keepHooked = null;
        }
        if (kvm != null) {
            kvm.close();
            kvm = null;
        }
    }
}
