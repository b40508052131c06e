package hg.boot;

import hg.boot.internal.ElfImage;
import hg.boot.internal.Source;
import hg.kvm.GuestMemory;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Loads a kernel of either format, chosen by its magic (ELF, or "HdrS" at 0x202). */
public final class KernelLoader {
    private KernelLoader() {
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
            throw new InvalidKernelException("truncated kernel: " + e.getMessage(), e);
        }
    }

    private static LoadedKernel load(GuestMemory memory, Source source) throws IOException, BootException {
        if (ElfImage.hasMagic(source)) {
            return ElfLoader.load(memory, source);
        }
        if (ParsedBzImage.hasMagic(source)) {
            return BzImageLoader.load(memory, source);
        }
        throw new InvalidKernelException("neither an ELF vmlinux nor a bzImage (no ELF magic, no \"HdrS\" at 0x202)");
    }
}
