package hg.vmm.internal.builder;

import hg.kvm.CpuidEntry;
import hg.vmm.VmConfig;
import hg.vmm.VmException;
import hg.vmm.internal.cpu.CpuidCheck;
import hg.vmm.internal.cpu.CpuidSetup;
import hg.vmm.internal.snapshot.SnapshotCodec;
import hg.vmm.internal.snapshot.SnapshotFile;
import hg.vmm.internal.snapshot.SnapshotFormatException;
import hg.vmm.internal.snapshot.SnapshotLayout;
import hg.vmm.internal.snapshot.VmSnapshot;
import hg.vmm.internal.virtio.block.DiskIdentity;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Reads a snapshot directory and decides whether it can be restored here, before anything is
 * made: the state decodes, the memory file is whole, no disk changed since, this host can give
 * the guest its CPUID. Each refusal is one line.
 */
public final class SnapshotLoader {
    private SnapshotLoader() {
    }

    /** A snapshot that may be restored: its state, the VM configuration it rebuilds, its memory file. */
    public record Loaded(VmSnapshot snapshot, VmConfig config, Path memoryFile) {
        public VmBuilder.RestoreFrom restoreFrom(boolean overlays) {
            return new VmBuilder.RestoreFrom(snapshot, memoryFile, overlays);
        }
    }

    public static Loaded load(Path dir, List<CpuidEntry> supportedCpuid, boolean tscDeadline) {
        SnapshotLayout files = new SnapshotLayout(dir);
        if (!Files.isDirectory(dir)) {
            throw new VmException("no snapshot in " + dir + ": it is not a directory");
        }
        VmSnapshot s;
        try {
            s = SnapshotCodec.decode(SnapshotFile.read(files.state()));
        } catch (NoSuchFileException e) {
            throw new VmException("no snapshot in " + dir + ": it has no state file");
        } catch (IOException e) {
            throw new VmException("cannot read the snapshot in " + dir + ": " + e.getMessage(), e);
        } catch (SnapshotFormatException e) {
            throw new VmException("snapshot " + dir + " refused: " + e.getMessage(), e);
        }
        VmSnapshot.Machine m = s.vm();
        for (int i = 0; i < s.vcpus().size(); i++) {
            List<CpuidEntry> here = CpuidSetup.forVcpu(supportedCpuid, i, s.vcpus().size(), tscDeadline);
            Optional<String> lacking = CpuidCheck.missing(s.vcpus().get(i).cpuid(), here);
            if (lacking.isPresent()) {
                throw new VmException("snapshot " + dir + " refused: " + lacking.get());
            }
        }
        List<Path> disks = new ArrayList<>();
        for (VmSnapshot.Disk d : m.disks()) {
            Path p = d.readOnly() ? Path.of(d.file()) : files.dir().resolve(d.file());
            if (!d.readOnly() && (Path.of(d.file()).getNameCount() != 1 || d.file().startsWith("."))) {
                throw new VmException("snapshot " + dir + " refused: disk " + d.device() + " names a file outside it");
            }
            String change;
            try {
                change = DiskIdentity.of(p).differenceFrom(d.identity());
            } catch (IOException e) {
                throw new VmException("snapshot " + dir + " refused: disk " + d.device() + " (" + p + "): " + e.getMessage(), e);
            }
            if (!change.isEmpty()) {
                throw new VmException("snapshot " + dir + " refused: disk " + d.device() + " (" + p + ") " + change);
            }
            disks.add(p);
        }
        VmConfig config;
        try {
            List<VmConfig.Disk> data = new ArrayList<>();
            for (int i = 1; i < disks.size(); i++) {
                data.add(new VmConfig.Disk(disks.get(i), m.disks().get(i).readOnly()));
            }
            config = new VmConfig(Path.of(m.kernel()), Optional.empty(), "", m.memoryBytes(), m.vcpuCount(),
                    disks.isEmpty() ? Optional.empty() : Optional.of(disks.getFirst()),
                    !disks.isEmpty() && m.disks().getFirst().readOnly(), data, m.netSlot() != 0, m.vhost());
        } catch (VmException | java.nio.file.InvalidPathException e) {
            throw new VmException("snapshot " + dir + " refused: " + e.getMessage(), e);
        }
        return new Loaded(s, config, files.memory());
    }
}
