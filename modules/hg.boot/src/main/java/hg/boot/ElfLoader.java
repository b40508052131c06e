package hg.boot;

import hg.boot.internal.ElfImage;
import hg.boot.internal.Source;
import hg.kvm.GuestMemory;
import hg.kvm.GuestMemoryException;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Loads an ELF64 x86-64 {@code vmlinux}: every PT_LOAD segment at its physical address
 * ({@code p_paddr}) with its bss zeroed. All segments are checked (in RAM, at or above 1 MiB,
 * not overlapping) before anything is written, so a refused kernel leaves guest memory untouched.
 */
public final class ElfLoader {
    // Plain classes rather than lambdas here and on the boot path: a VM start is a cold, one-shot run.
    private static final Comparator<ElfImage.Segment> BY_ADDRESS = new Comparator<>() {
        @Override
        public int compare(ElfImage.Segment a, ElfImage.Segment b) {
            return Long.compare(a.physAddress(), b.physAddress());
        }
    };

    private ElfLoader() {
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
            throw new InvalidKernelException("truncated ELF file: " + e.getMessage(), e);
        }
    }

    static LoadedKernel load(GuestMemory memory, Source source) throws IOException, BootException {
        ElfImage elf = ElfImage.parse(source);
        List<ElfImage.Segment> segments = new ArrayList<>(elf.loads());
        segments.sort(BY_ADDRESS);
        for (int i = 0; i < segments.size(); i++) {
            ElfImage.Segment s = segments.get(i);
            Placement.requireKernelRange(memory, "ELF segment " + s.index(), s.physAddress(), s.memSize());
            if (i > 0 && s.physAddress() < segments.get(i - 1).end()) {
                throw new KernelPlacementException(String.format("ELF segments %d and %d overlap at 0x%x",
                        segments.get(i - 1).index(), s.index(), s.physAddress()));
            }
        }
        List<GuestMemory.Range> writes = new ArrayList<>(segments.size());
        for (ElfImage.Segment s : segments) {
            if (s.memSize() > 0) {
                writes.add(new GuestMemory.Range(s.physAddress(), s.memSize()));
            }
        }
        memory.beforeLoading(writes);
        try {
            for (ElfImage.Segment s : segments) {
                source.copyTo(s.offset(), memory.slice(s.physAddress(), s.fileSize()));
                memory.fill(s.physAddress() + s.fileSize(), s.memSize() - s.fileSize(), (byte) 0);
            }
        } catch (GuestMemoryException e) {
            throw new KernelPlacementException("ELF segment outside guest memory: " + e.getMessage(), e);
        }
        long start = segments.getFirst().physAddress();
        long end = segments.getLast().end();
        return new LoadedKernel(KernelFormat.VMLINUX, elf.entry(), start, end, elf.pvhEntry(), SetupHeader.forVmlinux());
    }
}
