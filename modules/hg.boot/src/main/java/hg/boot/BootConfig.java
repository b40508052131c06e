package hg.boot;

import java.util.Objects;
import java.util.Optional;

/**
 * What the boot configurator needs besides the kernel: the command line, the number of vCPUs
 * (all described in the MP table) and, if one was loaded, where the initrd is.
 */
public record BootConfig(String cmdline, int vcpus, Optional<InitrdPlacement> initrd) {
    public BootConfig {
        Objects.requireNonNull(cmdline, "cmdline");
        Objects.requireNonNull(initrd, "initrd");
    }

    public BootConfig(String cmdline, int vcpus) {
        this(cmdline, vcpus, Optional.empty());
    }

    public BootConfig(String cmdline, int vcpus, InitrdPlacement initrd) {
        this(cmdline, vcpus, Optional.of(initrd));
    }
}
