package hg.boot;

import java.util.OptionalLong;

/** What a file in a kernel directory is: a bootable vmlinux, a bootable bzImage, or not a kernel (and why). */
public sealed interface KernelKind {

    /** An ELF64 x86-64 executable whose headers, segments and notes are well formed. */
    record Vmlinux(long entry, OptionalLong pvhEntry, long loadStart, long loadEnd) implements KernelKind {
    }

    /** A bzImage with a 64-bit entry and a supported boot protocol. */
    record BzImage(int protocolVersion, long initSize, long protectedModeSize) implements KernelKind {
    }

    /** Anything else; {@code reason} says what is wrong or missing, in one line. */
    record NotAKernel(String reason) implements KernelKind {
    }

    default boolean bootable() {
        return !(this instanceof NotAKernel);
    }
}
