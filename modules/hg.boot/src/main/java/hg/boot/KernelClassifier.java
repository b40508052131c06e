package hg.boot;

import hg.boot.internal.ElfImage;
import hg.boot.internal.Source;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Tells vmlinux from bzImage from anything else by reading headers only (ELF header, program
 * headers and notes; or the bzImage setup header), so classifying a large file costs a few reads.
 * It applies the same checks as the loaders, except those that depend on the guest's memory.
 */
public final class KernelClassifier {
    private KernelClassifier() {
    }

    /** Never throws: unreadable files and directories are "not a kernel" with the reason. */
    public static KernelKind classify(Path file) {
        if (Files.isDirectory(file)) {
            return new KernelKind.NotAKernel("a directory");
        }
        if (!Files.isRegularFile(file)) {
            return new KernelKind.NotAKernel(Files.exists(file) ? "not a regular file" : "no such file");
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return classify(Source.of(ch));
        } catch (IOException e) {
            return new KernelKind.NotAKernel("cannot read: " + e);
        }
    }

    public static KernelKind classify(byte[] image) {
        try {
            return classify(Source.of(image));
        } catch (IOException e) {
            return new KernelKind.NotAKernel("cannot read: " + e.getMessage());
        }
    }

    static KernelKind classify(Source source) throws IOException {
        if (source.size() == 0) {
            return new KernelKind.NotAKernel("empty file");
        }
        try {
            if (ElfImage.hasMagic(source)) {
                ElfImage elf = ElfImage.parse(source);
                long start = Long.MAX_VALUE, end = 0;
                for (ElfImage.Segment s : elf.loads()) {
                    start = Math.min(start, s.physAddress());
                    end = Math.max(end, s.end());
                }
                return new KernelKind.Vmlinux(elf.entry(), elf.pvhEntry(), start, end);
            }
            if (ParsedBzImage.hasMagic(source)) {
                ParsedBzImage bz = ParsedBzImage.parse(source);
                return new KernelKind.BzImage(bz.header().version(), bz.header().initSize(), bz.protectedModeSize());
            }
        } catch (InvalidKernelException e) {
            return new KernelKind.NotAKernel(e.getMessage());
        }
        return new KernelKind.NotAKernel("neither an ELF vmlinux nor a bzImage (no ELF magic, no \"HdrS\" at 0x202)");
    }
}
