package hg.vmm.internal.builder;

import hg.kvm.GuestMemoryException;
import hg.kvm.KvmException;
import hg.vmm.VmConfig;
import hg.vmm.VmDisk;
import hg.vmm.VmException;
import hg.vmm.internal.cpu.MachineState;
import hg.vmm.internal.cpu.VcpuLoop;
import hg.vmm.internal.cpu.VcpuState;
import hg.vmm.internal.snapshot.MemoryFile;
import hg.vmm.internal.snapshot.SnapshotCodec;
import hg.vmm.internal.snapshot.SnapshotFile;
import hg.vmm.internal.snapshot.SnapshotLayout;
import hg.vmm.internal.snapshot.VmSnapshot;
import hg.vmm.internal.virtio.TransportState;
import hg.vmm.internal.virtio.VirtioMmioTransport;
import hg.vmm.internal.virtio.block.DiskIdentity;
import hg.vmm.internal.virtio.block.SparseCopy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes a snapshot of a built VM into a directory: a sparse copy of each writable disk, the
 * memory file, and the state file last, so a directory with a state file holds a whole
 * snapshot. The caller has paused the vCPUs and holds the I/O thread: nothing changes meanwhile.
 */
public final class SnapshotTaker {
    private SnapshotTaker() {
    }

    /** What was written: guest memory and how much of it was not zero, and the disks' bytes. */
    public record Taken(long memoryBytes, long memoryDataBytes, long diskBytes) {
    }

    /**
     * @param share afterwards, let the VM itself run on the memory file (private pages over it), as
     *              the clones made from this snapshot do: the pages none of them writes are held once
     */
    public static Taken take(BuiltVm vm, VmConfig config, int[] msrIndices, Path dir, boolean share) {
        SnapshotLayout files = new SnapshotLayout(dir);
        for (AttachedDisk d : vm.disks()) {
            if (!d.info().readOnly() && files.holds(d.info().path())) {
                // Its copy would replace the file the VM goes on writing.
                throw new VmException("disk " + d.info().device() + " of this VM lies in " + dir
                        + ": snapshot it into another directory");
            }
        }
        List<VirtioMmioTransport> transports = vm.machine().transports();
        transports.forEach(VirtioMmioTransport::beforeSnapshot);
        try {
            prepare(dir, files);
            List<VmSnapshot.Vcpu> vcpus = new ArrayList<>();
            for (int i = 0; i < vm.loops().size(); i++) {
                VcpuLoop l = vm.loops().get(i);
                vcpus.add(new VmSnapshot.Vcpu(vm.machine().cpuid().get(i), VcpuState.capture(l.vcpu(), msrIndices)));
            }
            MachineState machine = MachineState.capture(vm.machine().vmFd());
            List<TransportState> devices = transports.stream().map(VirtioMmioTransport::state).toList();
            List<VmSnapshot.Disk> disks = new ArrayList<>();
            long diskBytes = 0;
            for (AttachedDisk d : vm.disks()) {
                VmDisk info = d.info();
                if (info.readOnly()) {
                    // Nobody writes a read-only image while this VM holds it; the identity tells if one did since.
                    disks.add(new VmSnapshot.Disk(info.device(), info.path().toAbsolutePath().toString(), true,
                            DiskIdentity.of(info.path())));
                } else {
                    Path copy = files.disk(info.device());
                    Files.deleteIfExists(copy);   // an older snapshot's; a VM that still runs on it keeps it open
                    d.backend().flush();
                    SparseCopy.copy(d.backend(), copy);
                    diskBytes += Files.size(copy);
                    disks.add(new VmSnapshot.Disk(info.device(), copy.getFileName().toString(), false, DiskIdentity.of(copy)));
                }
            }
            MemoryFile.Written memory = MemoryFile.write(vm.machine().memory(), files.memory());
            if (share) {
                vm.machine().memory().remapPrivate(files.memory());
            }
            VmSnapshot.Machine made = new VmSnapshot.Machine(config.kernel().toString(), vm.cmdline(), config.memoryBytes(),
                    config.vcpus(), disks, vm.machine().netSlot(), config.vhost(), vm.machine().clockZeroAt());
            VmSnapshot snapshot = new VmSnapshot(made, machine, vcpus, vm.serial().state(), vm.machine().i8042().state(),
                    devices);
            SnapshotFile.write(files.state(), SnapshotCodec.encode(snapshot));
            return new Taken(memory.size(), memory.dataBytes(), diskBytes);
        } catch (IOException | GuestMemoryException e) {
            throw new VmException("cannot write the snapshot into " + dir + ": " + e.getMessage(), e);
        } catch (KvmException e) {
            // The VM ended while it was being written (its fds are gone), or KVM refused a read.
            throw new VmException("cannot read the VM's state for a snapshot: " + e.getMessage(), e);
        } finally {
            transports.forEach(VirtioMmioTransport::afterSnapshot);
        }
    }

    static long wallClockNanos() {
        java.time.Instant now = java.time.Instant.now();
        return now.getEpochSecond() * 1_000_000_000L + now.getNano();
    }

    /** The directory (0700 when made here), without the state file of an older snapshot in it. */
    private static void prepare(Path dir, SnapshotLayout files) throws IOException {
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        }
        // An older snapshot's state goes first: until the new one is whole, the directory holds none.
        Files.deleteIfExists(files.state());
    }
}
