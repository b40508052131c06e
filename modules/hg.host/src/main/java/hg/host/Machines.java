package hg.host;

import hg.vmm.VmConfig;
import java.io.OutputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/** What the shell needs from the VMs it manages. Ids are small positive numbers, never reused in one run. */
public interface Machines extends AutoCloseable {
    /** The least memory a Linux guest is given. */
    long MIN_MEMORY = 16 * Sizes.MIB;

    /** A disk image and how it is attached. */
    record Disk(Path path, boolean readOnly) {}

    /** A disk of a VM: the guest's name for it (vda is the root image), the file, read-only or not. */
    record AttachedDisk(String device, Path path, boolean readOnly) {}

    /**
     * What to boot: the catalog has already resolved the ids to files.
     *
     * @param image   the root image (vda), or null for a guest without one (it runs from its initrd)
     * @param disks   the data disks after the root image, in order (vdb, vdc, ...)
     * @param initrd  an initramfs for the kernel
     * @param hostTap with {@code net}: the caller's own TAP for the network card instead of hyper-gen's bridge
     * @param vsock   the host socket of the guest's vsock; empty: the host's default for the VM's id
     * @param shares  host directories the guest mounts over 9p
     * @param hugepages the guest's memory on 2 MiB pages (hugetlbfs, else transparent huge pages)
     */
    record Spec(Path kernel, Path image, long memoryBytes, int cpus, String cmdline, boolean readOnly, List<Disk> disks,
                boolean net, boolean vhost, Optional<Path> initrd, Optional<VmConfig.HostTap> hostTap,
                Optional<Path> vsock, List<VmConfig.Share> shares, boolean hugepages) {
        public Spec {
            disks = List.copyOf(disks);
            shares = List.copyOf(shares);
            Objects.requireNonNull(initrd, "initrd");
            Objects.requireNonNull(hostTap, "hostTap");
            Objects.requireNonNull(vsock, "vsock");
        }

        public Spec(Path kernel, Path image, long memoryBytes, int cpus, String cmdline, boolean readOnly, List<Disk> disks,
                    boolean net, boolean vhost, Optional<Path> initrd, Optional<VmConfig.HostTap> hostTap,
                    Optional<Path> vsock, List<VmConfig.Share> shares) {
            this(kernel, image, memoryBytes, cpus, cmdline, readOnly, disks, net, vhost, initrd, hostTap, vsock, shares, false);
        }

        public Spec(Path kernel, Path image, long memoryBytes, int cpus, String cmdline, boolean readOnly, List<Disk> disks,
                    boolean net, boolean vhost, Optional<Path> initrd, Optional<VmConfig.HostTap> hostTap,
                    Optional<Path> vsock) {
            this(kernel, image, memoryBytes, cpus, cmdline, readOnly, disks, net, vhost, initrd, hostTap, vsock, List.of());
        }

        public Spec(Path kernel, Path image, long memoryBytes, int cpus, String cmdline, boolean readOnly, List<Disk> disks,
                    boolean net, boolean vhost) {
            this(kernel, image, memoryBytes, cpus, cmdline, readOnly, disks, net, vhost, Optional.empty(), Optional.empty(),
                    Optional.empty());
        }

        public Spec(Path kernel, Path image, long memoryBytes, int cpus, String cmdline, boolean readOnly) {
            this(kernel, image, memoryBytes, cpus, cmdline, readOnly, List.of(), false, true);
        }
    }

    /** The state as vm_list shows it. */
    sealed interface State {
        record Running() implements State {}

        /** Its vCPUs stand still until vm_resume; memory and devices are kept. */
        record Paused() implements State {}

        record Stopped(String reason) implements State {}
    }

    /**
     * @param disks the root image (vda) and the data disks after it
     * @param net   the guest's address and data path, e.g. "172.30.0.2/16 java", or "-" without a network card
     * @param vsock the host socket of the VM's vsock, where its agent is reached; empty without one
     * @param shares the host directories the VM mounts over 9p
     * @param hugePages what backs its memory when it is huge pages ("2M hugetlbfs" or "THP"); empty for 4 KiB pages
     */
    record Info(int id, Path kernel, List<AttachedDisk> disks, int cpus, long memoryBytes, State state,
                Duration uptime, String net, Counters counters, Optional<Path> vsock, List<VmConfig.Share> shares,
                String hugePages) {
        public Info {
            disks = List.copyOf(disks);
            shares = List.copyOf(shares);
            Objects.requireNonNull(vsock, "vsock");
            Objects.requireNonNull(hugePages, "hugePages");
        }

        public Info(int id, Path kernel, List<AttachedDisk> disks, int cpus, long memoryBytes, State state,
                    Duration uptime, String net, Counters counters, Optional<Path> vsock, List<VmConfig.Share> shares) {
            this(id, kernel, disks, cpus, memoryBytes, state, uptime, net, counters, vsock, shares, "");
        }

        public Info(int id, Path kernel, List<AttachedDisk> disks, int cpus, long memoryBytes, State state,
                    Duration uptime, String net, Counters counters, Optional<Path> vsock) {
            this(id, kernel, disks, cpus, memoryBytes, state, uptime, net, counters, vsock, List.of());
        }

        public Info(int id, Path kernel, List<AttachedDisk> disks, int cpus, long memoryBytes, State state,
                    Duration uptime, String net, Counters counters) {
            this(id, kernel, disks, cpus, memoryBytes, state, uptime, net, counters, Optional.empty());
        }

        public Info(int id, Path kernel, List<AttachedDisk> disks, int cpus, long memoryBytes, State state,
                    Duration uptime, String net) {
            this(id, kernel, disks, cpus, memoryBytes, state, uptime, net, Counters.NONE);
        }
    }

    /**
     * What a VM has done since it started, as GET /metrics tells it.
     *
     * @param vcpuExits     exits of all its vCPUs to the VMM
     * @param diskReadBytes read by the guest from all its disks; diskWriteBytes likewise
     * @param netRxBytes    delivered to the guest by its network card; netTxBytes sent by it
     */
    record Counters(long vcpuExits, long diskReadBytes, long diskWriteBytes, long netRxBytes, long netTxBytes) {
        public static final Counters NONE = new Counters(0, 0, 0, 0, 0);
    }

    /**
     * What a snapshot wrote.
     *
     * @param memoryDataBytes of the guest's memory, the bytes written (pages of zeros are left as holes)
     * @param diskBytes       the copies of the writable disks
     * @param paused          how long the guest stood still for it
     */
    record Snapshot(Path dir, long memoryBytes, long memoryDataBytes, long diskBytes, Duration paused) {}

    /** A live attachment to a VM's serial console. */
    interface Console extends AutoCloseable {
        /** Sends keystrokes to the VM's serial port. */
        void input(byte[] bytes) throws HostException;

        /** The VM's state now; the console front end stops when it is no longer running. */
        State state();

        /** Detaches; the VM keeps running. */
        @Override
        void close();
    }

    /**
     * What happened that nobody asked about, to be told before the next answer (a daemon that started
     * again and lost its VMs); each is returned once.
     */
    default List<String> notices() {
        return List.of();
    }

    /** The most vCPUs a VM may have on this host. */
    int maxVcpus();

    /** How vm_create weighs a VM's memory against the host's, as a clause for help vm_create. */
    String memoryRule();

    /** Where guests' network cards reach (the host only, or beyond it through an uplink), as a line; empty if unknown. */
    default String networkReach() {
        return "";
    }

    /** Creates and starts a VM; on any failure nothing of it remains. Returns the new id. */
    int create(Spec spec) throws HostException;

    List<Info> list();

    /**
     * Attaches to VM {@code id}'s serial console: the recent output, then later output as it comes, is written
     * to {@code sink} (from another thread) until the console is closed; closing writes what is still queued.
     */
    Console attach(int id, OutputStream sink) throws HostException;

    /** Stops VM {@code id}'s vCPUs until {@link #resume}. */
    void pause(int id) throws HostException;

    void resume(int id) throws HostException;

    /** Writes a snapshot of VM {@code id} into {@code dir}; with {@code stop} the VM is destroyed once it is written. */
    Snapshot snapshot(int id, Path dir, boolean stop) throws HostException;

    /** Makes a VM from the snapshot in {@code dir}, running or paused; returns its id. */
    int restore(Path dir, boolean paused) throws HostException;

    /** Makes {@code count} running clones of VM {@code id}; returns their ids. */
    List<Integer> clone(int id, int count) throws HostException;

    /** Stops VM {@code id} and frees everything it held. */
    void destroy(int id) throws HostException;

    /** Destroys every VM. */
    @Override
    void close();
}
