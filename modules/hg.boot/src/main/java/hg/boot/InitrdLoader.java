package hg.boot;

import hg.boot.internal.Source;
import hg.kvm.GuestMemory;
import hg.kvm.GuestMemoryException;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Loads an initrd at the highest page-aligned address under both the kernel's
 * {@code initrd_addr_max} and the end of low RAM, above the kernel (and its decompression area),
 * as boot loaders conventionally do: the kernel then never has to move it out of its way.
 */
public final class InitrdLoader {
    private InitrdLoader() {
    }

    public static InitrdPlacement load(GuestMemory memory, Path file, LoadedKernel kernel)
            throws IOException, BootException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return load(memory, Source.of(ch), kernel);
        }
    }

    public static InitrdPlacement load(GuestMemory memory, byte[] initrd, LoadedKernel kernel) throws BootException {
        try {
            return load(memory, Source.of(initrd), kernel);
        } catch (IOException e) {
            throw new InitrdException("initrd could not be read: " + e.getMessage(), e);
        }
    }

    /** Where an initrd of {@code size} bytes goes, without loading it. */
    public static InitrdPlacement place(GuestMemory memory, long size, LoadedKernel kernel) throws InitrdException {
        if (size <= 0) {
            throw new InitrdException("initrd is empty");
        }
        long lowEnd = memory.regions().isEmpty() || memory.regions().getFirst().guestAddress() != 0
                ? 0 : memory.regions().getFirst().end();
        long top = Math.min(lowEnd, kernel.setupHeader().initrdAddrMax() + 1);
        long floor = alignUp(Math.max(kernel.end(), X86Layout.HIMEM_START), X86Layout.PAGE_SIZE);
        long address = (top - size) & -X86Layout.PAGE_SIZE;
        if (size > top - floor || address < floor) {
            throw new InitrdException(String.format(
                    "initrd of %d bytes does not fit between the kernel end 0x%x and 0x%x (%d bytes free)",
                    size, floor, top, Math.max(0, top - floor)));
        }
        return new InitrdPlacement(address, size);
    }

    private static InitrdPlacement load(GuestMemory memory, Source source, LoadedKernel kernel)
            throws IOException, BootException {
        InitrdPlacement p = place(memory, source.size(), kernel);
        try {
            source.copyTo(0, memory.slice(p.address(), p.size()));
        } catch (GuestMemoryException e) {
            throw new InitrdException("initrd outside guest memory: " + e.getMessage(), e);
        }
        return p;
    }

    private static long alignUp(long v, long a) {
        return (v + a - 1) & -a;
    }
}
