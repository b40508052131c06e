package hg.shell.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** Classifies a kernel by its first bytes: an x86-64 ELF executable is a vmlinux, a setup header "HdrS" a bzImage. */
public final class HeaderKernelProbe implements KernelProbe {
    @Override
    public String classify(Path file) throws NotAKernel, IOException {
        ByteBuffer head = ByteBuffer.allocate(0x210).order(ByteOrder.LITTLE_ENDIAN);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            while (head.hasRemaining() && ch.read(head) > 0) {
                // read until the header is complete or the file ends
            }
        }
        return classify(head.flip());
    }

    static String classify(ByteBuffer b) throws NotAKernel {
        int n = b.limit();
        if (n >= 20 && b.get(0) == 0x7F && b.get(1) == 'E' && b.get(2) == 'L' && b.get(3) == 'F') {
            if (b.get(4) != 2) {
                throw new NotAKernel("a 32-bit ELF file, not an x86-64 vmlinux");
            }
            int machine = Short.toUnsignedInt(b.getShort(18));
            if (machine != 0x3E) {
                throw new NotAKernel(String.format("an ELF file for machine 0x%X, not an x86-64 vmlinux", machine));
            }
            if (Short.toUnsignedInt(b.getShort(16)) != 2) {
                throw new NotAKernel("an ELF file that is not an executable, not a vmlinux");
            }
            return "vmlinux";
        }
        if (n >= 0x206 && Short.toUnsignedInt(b.getShort(0x1FE)) == 0xAA55 && b.getInt(0x202) == 0x53726448) {
            return "bzImage";
        }
        if (n < 0x206) {
            throw new NotAKernel("not a kernel (" + n + " bytes, too short for an ELF or bzImage header)");
        }
        throw new NotAKernel("not a kernel (neither an ELF vmlinux nor a bzImage setup header)");
    }
}
