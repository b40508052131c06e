package hg.shell.internal;

import hg.boot.KernelClassifier;
import hg.boot.KernelKind;
import java.nio.file.Path;

/** The kernel check of hg.boot: the same header checks its loaders make, so an id is never given to a file that fails later. */
public final class BootKernelProbe implements KernelProbe {
    @Override
    public String classify(Path file) throws NotAKernel {
        return switch (KernelClassifier.classify(file)) {
            case KernelKind.Vmlinux v -> "vmlinux";
            case KernelKind.BzImage b -> "bzImage";
            case KernelKind.NotAKernel n -> throw new NotAKernel("not a kernel: " + Confine.explain(file, n.reason()));
        };
    }
}
