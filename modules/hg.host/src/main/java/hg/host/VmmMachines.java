package hg.host;

import hg.host.internal.CloneIdentity;
import hg.host.internal.ConsolePump;
import hg.vmm.Console.Attachment;
import hg.vmm.ImageBusyException;
import hg.vmm.MemoryAdmission;
import hg.vmm.MemoryRefusedException;
import hg.vmm.SnapshotInfo;
import hg.vmm.StopReason;
import hg.vmm.Vm;
import hg.vmm.VmConfig;
import hg.vmm.VmCounters;
import hg.vmm.VmException;
import hg.vmm.VmInfo;
import hg.vmm.VmManager;
import hg.vmm.VmState;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.Supplier;

/** The shell's VMs on hg.vmm's {@link VmManager}: real VMs on /dev/kvm. */
public final class VmmMachines implements Machines {
    /** Left to the host and this JVM when a new guest's RAM is weighed against what is available. */
    static final long HOST_RESERVE = 64 * Sizes.MIB;

    private final VmManager manager;
    private final Supplier<OptionalLong> availableMemory;
    private final Supplier<OptionalLong> freeHugePages;
    private final boolean hugepagesForAll;

    public VmmMachines(VmManager manager) {
        this(manager, false);
    }

    /** {@code hugepagesForAll}: every VM's memory on huge pages, whatever its spec says (a host default). */
    public VmmMachines(VmManager manager, boolean hugepagesForAll) {
        this(manager, VmmMachines::memAvailable, VmmMachines::freeHugePages, hugepagesForAll);
    }

    VmmMachines(VmManager manager, Supplier<OptionalLong> availableMemory) {
        this(manager, availableMemory, OptionalLong::empty, false);
    }

    VmmMachines(VmManager manager, Supplier<OptionalLong> availableMemory, Supplier<OptionalLong> freeHugePages,
                boolean hugepagesForAll) {
        this.manager = manager;
        this.availableMemory = availableMemory;
        this.freeHugePages = freeHugePages;
        this.hugepagesForAll = hugepagesForAll;
    }

    @Override
    public int create(Spec spec) throws HostException {
        boolean huge = spec.hugepages() || hugepagesForAll;
        OptionalLong available = availableMemory.get();
        if (huge && available.isPresent()) {
            // the hugetlbfs pool is not in MemAvailable, and a VM on huge pages takes its memory from there
            available = OptionalLong.of(available.getAsLong() + freeHugePages.get().orElse(0));
        }
        if (available.isPresent() && spec.memoryBytes() > available.getAsLong() - HOST_RESERVE) {
            long fits = Math.max(0, available.getAsLong() - HOST_RESERVE) / Sizes.MIB;
            throw new HostException("out of memory: " + Sizes.human(spec.memoryBytes()) + " asked, "
                    + Sizes.human(available.getAsLong()) + " available on this host"
                    + (fits >= Machines.MIN_MEMORY / Sizes.MIB ? "; try --mem " + fits + "M or less" : "; destroy a VM first"));
        }
        VmConfig config;
        try {
            VmConfig base = VmConfig.of(spec.kernel(), spec.image());
            for (Disk d : spec.disks()) {
                base = base.withDisk(d.path(), d.readOnly());
            }
            config = base
                    .withMemory(spec.memoryBytes())
                    .withVcpus(spec.cpus())
                    .withCmdline(spec.cmdline())
                    .withReadOnly(spec.readOnly())
                    .withNet(spec.net())
                    .withVhost(spec.vhost())
                    .withHugepages(huge);
            if (spec.initrd().isPresent()) {
                config = config.withInitrd(spec.initrd().get());
            }
            if (spec.hostTap().isPresent()) {
                config = config.withHostTap(spec.hostTap().get());
            }
            if (spec.vsock().isPresent()) {
                config = config.withVsock(spec.vsock().get());
            }
            for (VmConfig.Share s : spec.shares()) {
                config = config.withShare(s);
            }
        } catch (VmException e) {
            throw new HostException(e.getMessage());
        }
        try {
            return manager.create(config);
        } catch (MemoryRefusedException e) {
            throw new HostException(e.getMessage() + "; destroy a VM first, or start hyper-gen with --overcommit");
        } catch (ImageBusyException e) {
            throw new HostException(e.getMessage() + (e.writerHolds()
                    ? ": destroy the VM that writes it first" : ": destroy the VM that uses it first, or use another image"));
        } catch (VmException e) {
            throw new HostException("the VM could not be made: " + e.getMessage());
        } catch (OutOfMemoryError e) {
            throw new HostException("out of memory while making the VM: try a smaller --mem");
        }
    }

    @Override
    public int maxVcpus() {
        try {
            return manager.maxVcpus();
        } catch (VmException e) {
            return VmConfig.MAX_VCPUS; // no /dev/kvm: vm_create will say so
        }
    }

    @Override
    public String networkReach() {
        return hg.vmm.GuestNetwork.reach();
    }

    @Override
    public String memoryRule() {
        MemoryAdmission memory = manager.memory();
        if (manager.overcommit()) {
            return "overcommit is on (hyper-gen --overcommit): guest memory is not weighed against the host's";
        }
        OptionalLong host = memory.hostMemory();
        if (host.isEmpty()) {
            return "this host's memory cannot be read, so every VM is admitted";
        }
        return "running VMs may be promised " + Sizes.human(memory.limit().orElse(0)) + " of guest memory together (the "
                + "host's " + Sizes.human(host.getAsLong()) + " less " + Sizes.human(memory.reserve())
                + " kept for the host and hyper-gen); hyper-gen --overcommit lifts this";
    }

    @Override
    public List<Info> list() {
        List<Info> out = new ArrayList<>();
        for (VmInfo i : manager.list()) {
            List<AttachedDisk> disks = i.disks().stream()
                    .map(d -> new AttachedDisk(d.device(), d.path(), d.readOnly())).toList();
            VmCounters c = i.counters();
            out.add(new Info(i.id(), i.kernel(), disks, i.vcpus(), i.memoryBytes(), state(i.state()), i.uptime(),
                    i.net().map(n -> n.address() + " " + n.dataPath()).orElse("-"),
                    new Counters(c.vcpuExits(), c.diskReadBytes(), c.diskWriteBytes(), c.netRxBytes(), c.netTxBytes()),
                    i.vsock(), i.shares(), i.hugePages()));
        }
        return out;
    }

    static State state(VmState s) {
        return switch (s) {
            case VmState.Running r -> new State.Running();
            case VmState.Paused p -> new State.Paused();
            case VmState.Stopped st -> new State.Stopped(reason(st.reason()));
        };
    }

    private static String reason(StopReason r) {
        return switch (r) {
            case StopReason.GuestReset g -> "the guest rebooted (reset)";
            case StopReason.Shutdown sd -> "the guest shut down (triple fault or shutdown on vCPU " + sd.vcpu()
                    + (sd.state().isEmpty() ? "" : ", " + sd.state()) + ")";
            case StopReason.DebugExit d -> "the guest exited with code " + d.code();
            case StopReason.InternalError e -> "VMM error: " + e.message();
            case StopReason.Destroyed d -> "destroyed";
        };
    }

    @Override
    public Console attach(int id, OutputStream sink) throws HostException {
        Vm vm = vm(id);
        ConsolePump pump = new ConsolePump(sink);
        Attachment attachment = vm.console().attach(pump::offer);
        return new Console() {
            @Override
            public void input(byte[] bytes) {
                vm.console().input(bytes);
            }

            @Override
            public State state() {
                return VmmMachines.state(vm.state());
            }

            @Override
            public void close() {
                attachment.close();
                pump.close();
            }
        };
    }

    @Override
    public void destroy(int id) throws HostException {
        try {
            manager.destroy(id);
        } catch (VmException e) {
            throw new HostException("vm " + id + " could not be destroyed: " + e.getMessage());
        }
    }

    @Override
    public void pause(int id) throws HostException {
        try {
            manager.pause(id);
        } catch (VmException e) {
            throw new HostException("vm " + id + " could not be paused: " + e.getMessage());
        }
    }

    @Override
    public void resume(int id) throws HostException {
        try {
            manager.resume(id);
        } catch (VmException e) {
            throw new HostException("vm " + id + " could not be resumed: " + e.getMessage());
        }
    }

    @Override
    public Snapshot snapshot(int id, Path dir, boolean stop) throws HostException {
        SnapshotInfo s;
        try {
            s = manager.snapshot(id, dir, stop);
        } catch (VmException e) {
            throw new HostException("vm " + id + ": no snapshot in " + dir + ": " + e.getMessage());
        }
        return new Snapshot(s.dir(), s.memoryBytes(), s.memoryDataBytes(), s.diskBytes(), s.paused());
    }

    @Override
    public int restore(Path dir, boolean paused) throws HostException {
        try {
            return manager.restore(dir, paused);
        } catch (MemoryRefusedException e) {
            throw new HostException(e.getMessage() + "; destroy a VM first, or start hyper-gen with --overcommit");
        } catch (ImageBusyException e) {
            throw new HostException(e.getMessage() + ": destroy the VM restored from " + dir + " first");
        } catch (VmException e) {
            // hg.vmm's line already names the snapshot and what is wrong with it.
            throw new HostException(e.getMessage());
        } catch (OutOfMemoryError e) {
            throw new HostException("out of memory while restoring " + dir);
        }
    }

    @Override
    public List<Integer> clone(int id, int count) throws HostException {
        List<Integer> made;
        try {
            made = manager.clone(id, count);
        } catch (MemoryRefusedException e) {
            throw new HostException(e.getMessage() + "; destroy a VM first, ask for fewer clones, or start hyper-gen "
                    + "with --overcommit");
        } catch (VmException e) {
            throw new HostException(e.getMessage());
        } catch (OutOfMemoryError e) {
            throw new HostException("out of memory while cloning vm " + id + ": ask for fewer clones");
        }
        // All or none: a clone that could not be made its own guest is of no use, nor is half of a request.
        try {
            for (int clone : made) {
                CloneIdentity.give(manager.require(clone).info());
            }
        } catch (HostException e) {
            for (int clone : made) {
                manager.destroy(clone);
            }
            throw new HostException(e.kind(), e.getMessage() + "; its clones were destroyed (vm_clone needs the agent of "
                    + "the default image in a networked guest)");
        }
        return made;
    }

    private Vm vm(int id) throws HostException {
        Optional<Vm> vm = manager.get(id);
        if (vm.isEmpty()) {
            throw new HostException("no vm with id " + id + " (vm_list shows the ids)");
        }
        return vm.get();
    }

    @Override
    public void close() {
        manager.close();
    }

    /** MemAvailable from /proc/meminfo, in bytes; empty where it cannot be read. */
    static OptionalLong memAvailable() {
        try {
            return parseMemAvailable(Files.readAllLines(Path.of("/proc/meminfo")));
        } catch (IOException | RuntimeException e) {
            return OptionalLong.empty();
        }
    }

    /** The bytes of 2 MiB hugetlbfs pages free and not reserved by a mapping (VMs on huge pages reserve theirs). */
    static OptionalLong freeHugePages() {
        Path pool = Path.of("/sys/kernel/mm/hugepages/hugepages-2048kB");
        try {
            long free = Long.parseLong(Files.readString(pool.resolve("free_hugepages")).strip());
            long reserved = Long.parseLong(Files.readString(pool.resolve("resv_hugepages")).strip());
            return OptionalLong.of(Math.max(0, free - reserved) * VmConfig.HUGE_PAGE);
        } catch (IOException | RuntimeException e) {
            return OptionalLong.empty();
        }
    }

    static OptionalLong parseMemAvailable(List<String> meminfo) {
        for (String line : meminfo) {
            if (line.startsWith("MemAvailable:")) {
                String[] f = line.substring("MemAvailable:".length()).trim().split("\\s+");
                try {
                    return OptionalLong.of(Long.parseLong(f[0]) * Sizes.KIB);
                } catch (NumberFormatException e) {
                    return OptionalLong.empty();
                }
            }
        }
        return OptionalLong.empty();
    }
}
