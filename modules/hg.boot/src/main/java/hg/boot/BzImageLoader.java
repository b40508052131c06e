package hg.boot;

import hg.boot.internal.Source;
import hg.kvm.GuestMemory;
import hg.kvm.GuestMemoryException;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.OptionalLong;

/**
 * Loads a {@code bzImage} for the 64-bit boot protocol: the protected-mode part goes to 1 MiB
 * (where code32_start points), and the kernel is entered at load address + 0x200. The guest must
 * also have room for the decompressed kernel: {@code init_size} bytes from where it will run
 * (pref_address, or the load address rounded up to kernel_alignment if that is higher).
 */
public final class BzImageLoader {
    /** Where the protected-mode part is loaded. */
    public static final long LOAD_ADDRESS = X86Layout.HIMEM_START;
    /** Offset of the 64-bit entry from the start of the protected-mode part. */
    public static final long ENTRY_64_OFFSET = 0x200;

    private BzImageLoader() {
    }

    public static LoadedKernel load(GuestMemory memory, Path file) throws IOException, BootException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return load(memory, Source.of(ch));
        }
    }

    public static LoadedKernel load(GuestMemory memory, byte[] image) throws BootException {
        try {
            return load(memory, Source.of(image));
        } catch (IOException e) {
            throw new InvalidKernelException("truncated bzImage: " + e.getMessage(), e);
        }
    }

    static LoadedKernel load(GuestMemory memory, Source source) throws IOException, BootException {
        ParsedBzImage bz = ParsedBzImage.parse(source);
        SetupHeader h = bz.header();
        long runtime = h.relocatable()
                ? Math.max(alignUp(LOAD_ADDRESS, h.kernelAlignment()), h.prefAddress())
                : h.prefAddress();
        long end = Math.max(LOAD_ADDRESS + bz.protectedModeSize(), runtime + h.initSize());
        Placement.requireKernelRange(memory, String.format("bzImage (0x%x bytes, init_size 0x%x from 0x%x)",
                bz.protectedModeSize(), h.initSize(), runtime), LOAD_ADDRESS, end - LOAD_ADDRESS);
        try {
            source.copyTo(bz.protectedModeOffset(), memory.slice(LOAD_ADDRESS, bz.protectedModeSize()));
        } catch (GuestMemoryException e) {
            throw new KernelPlacementException("bzImage outside guest memory: " + e.getMessage(), e);
        }
        return new LoadedKernel(KernelFormat.BZIMAGE, LOAD_ADDRESS + ENTRY_64_OFFSET, LOAD_ADDRESS, end,
                OptionalLong.empty(), h);
    }

    private static long alignUp(long v, long a) {
        return (v + a - 1) & -a;
    }
}
