package hg.host;

import java.io.IOException;
import java.nio.file.Path;

/** Tells whether a file is a bootable guest kernel. */
public interface KernelProbe {
    /** The kernel's format ("vmlinux" or "bzImage"), or a {@link NotAKernel} saying why it is not one. */
    String classify(Path file) throws NotAKernel, IOException;

    final class NotAKernel extends Exception {
        private static final long serialVersionUID = 1L;

        public NotAKernel(String reason) {
            super(reason, null, false, false);
        }
    }
}
