package hg.boot;

import java.util.OptionalLong;

/**
 * A kernel placed in guest memory.
 *
 * @param format      what was loaded
 * @param entry       guest-physical address of the 64-bit entry point
 * @param start       lowest guest-physical address the kernel occupies
 * @param end         end (exclusive) of the memory the kernel occupies or needs while it starts
 *                    (for a bzImage this includes the decompression area, {@code init_size})
 * @param pvhEntry    the 32-bit PVH entry point when the kernel has a XEN_ELFNOTE_PHYS32_ENTRY note
 * @param setupHeader the setup header to put in the zero page (copied from a bzImage, filled for a vmlinux)
 */
public record LoadedKernel(KernelFormat format, long entry, long start, long end, OptionalLong pvhEntry,
                           SetupHeader setupHeader) {
}
