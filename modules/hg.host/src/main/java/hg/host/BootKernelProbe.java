package hg.host;

import hg.boot.KernelClassifier;
import hg.boot.KernelKind;
import java.nio.file.Path;
import java.util.function.BiFunction;

/** The kernel check of hg.boot: the same header checks its loaders make, so an id is never given to a file that fails later. */
public final class BootKernelProbe implements KernelProbe {
    private final BiFunction<Path, String, String> explain;

    public BootKernelProbe() {
        this((file, reason) -> reason);
    }

    /** @param explain turns a file and the loader's reason into the line shown (a confined VMM says why it cannot read) */
    public BootKernelProbe(BiFunction<Path, String, String> explain) {
        this.explain = explain;
    }

    @Override
    public String classify(Path file) throws NotAKernel {
        return switch (KernelClassifier.classify(file)) {
            case KernelKind.Vmlinux v -> "vmlinux";
            case KernelKind.BzImage b -> "bzImage";
            case KernelKind.NotAKernel n -> throw new NotAKernel("not a kernel: " + explain.apply(file, n.reason()));
        };
    }
}
