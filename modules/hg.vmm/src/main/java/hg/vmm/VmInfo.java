package hg.vmm;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/** One line of {@code vm_list}: a snapshot of a VM. */
public record VmInfo(int id, Path kernel, Optional<Path> image, int vcpus, long memoryBytes, VmState state,
                     Duration uptime, Optional<VmNet> net) {

    /** Without a network card. */
    public VmInfo(int id, Path kernel, Optional<Path> image, int vcpus, long memoryBytes, VmState state, Duration uptime) {
        this(id, kernel, image, vcpus, memoryBytes, state, uptime, Optional.empty());
    }
}
