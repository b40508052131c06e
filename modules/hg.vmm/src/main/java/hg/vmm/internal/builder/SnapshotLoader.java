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
import hg.vmm.internal.virtio.vsock.VirtioVsock;

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

    /**
     * A snapshot that may be restored: its state, the VM configuration it rebuilds (without a vsock socket: that
     * is the restoring side's to give), its memory file.
     */
    public record Loaded(VmSnapshot snapshot, VmConfig config, Path memoryFile) {
        /** Whether the saved VM had a vsock device, so the restored one needs a socket for it. */
        public boolean hadVsock() {
            return snapshot.devices().stream().anyMatch(d -> d.deviceType() == VirtioVsock.DEVICE_ID);
        }

        public VmBuilder.RestoreFrom restoreFrom(boolean clone) {
            return new VmBuilder.RestoreFrom(snapshot, memoryFile, clone);
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
            throw refused(dir, e.getMessage(), e);
        }
        VmSnapshot.Machine m = s.vm();
        if (m.vcpuCount() > VmConfig.MAX_VCPUS) {
            // Before the CPUID check, which cannot lay out more vCPUs than a VM here may have.
            throw refused(dir, "it has " + m.vcpuCount() + " vCPUs, more than the " + VmConfig.MAX_VCPUS + " a VM may have");
        }
        for (int i = 0; i < s.vcpus().size(); i++) {
            List<CpuidEntry> here = CpuidSetup.forVcpu(supportedCpuid, i, s.vcpus().size(), tscDeadline);
            Optional<String> lacking = CpuidCheck.missing(s.vcpus().get(i).cpuid(), here);
            if (lacking.isPresent()) {
                throw refused(dir, lacking.get());
            }
        }
        List<Path> disks = new ArrayList<>();
        for (VmSnapshot.Disk d : m.disks()) {
            Path p;
            try {
                p = d.readOnly() ? Path.of(d.file()) : files.dir().resolve(d.file());
            } catch (java.nio.file.InvalidPathException e) {
                throw refused(dir, "disk " + d.device() + " names no file: " + e.getMessage(), e);
            }
            if (!d.readOnly() && (Path.of(d.file()).getNameCount() != 1 || d.file().isEmpty() || d.file().startsWith("."))) {
                throw refused(dir, "disk " + d.device() + " names a file outside it");
            }
            String change;
            try {
                change = DiskIdentity.of(p).differenceFrom(d.identity());
            } catch (IOException e) {
                throw refused(dir, "disk " + d.device() + " (" + p + "): " + e.getMessage(), e);
            }
            if (!change.isEmpty()) {
                throw refused(dir, "disk " + d.device() + " (" + p + ") " + change);
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
            throw refused(dir, e.getMessage(), e);
        }
        return new Loaded(s, config, files.memory());
    }

    /**
     * One line however the state's names read: a crafted state may put line breaks or terminal
     * escapes in a device or file name, and the refusal quotes it.
     */
    private static VmException refused(Path dir, String why) {
        return refused(dir, why, null);
    }

    private static VmException refused(Path dir, String why, Throwable cause) {
        StringBuilder line = new StringBuilder("snapshot " + dir + " refused: ");
        why.codePoints().forEach(c -> {
            if (Character.isISOControl(c)) {
                line.append(String.format("\\x%02x", c));
            } else {
                line.appendCodePoint(c);
            }
        });
        return new VmException(line.toString(), cause);
    }
}
