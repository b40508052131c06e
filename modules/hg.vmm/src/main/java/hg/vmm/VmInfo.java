package hg.vmm;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * One line of {@code vm_list}: a snapshot of a VM; {@code disks} are the root image (vda) and the
 * data disks after it; {@code counters} what it did so far (a stopped VM keeps its last counts);
 * {@code vsock} the host socket of its vsock; {@code shares} the host directories it mounts over 9p;
 * {@code hugePages} what backs its memory when it is huge pages ("2M hugetlbfs" or "THP"), empty for 4 KiB pages.
 */
public record VmInfo(int id, Path kernel, List<VmDisk> disks, int vcpus, long memoryBytes, VmState state,
                     Duration uptime, Optional<VmNet> net, VmCounters counters, Optional<Path> vsock,
                     List<VmConfig.Share> shares, String hugePages) {

    public VmInfo {
        disks = List.copyOf(disks);
        shares = List.copyOf(shares);
    }
}
