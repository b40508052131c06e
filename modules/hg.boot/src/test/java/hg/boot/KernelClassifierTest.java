package hg.boot;

import hg.boot.internal.Source;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.*;

class KernelClassifierTest {
    @TempDir
    Path dir;

    @Test
    void tellsTheFormatsApart() throws IOException {
        Path vmlinux = Files.write(dir.resolve("vmlinux"), Fixtures.vmlinux().build());
        Path bz = Files.write(dir.resolve("bzImage"), new Fixtures.BzImage().build());
        KernelKind.Vmlinux v = assertInstanceOf(KernelKind.Vmlinux.class, KernelClassifier.classify(vmlinux));
        assertEquals(0x1000000, v.entry());
        assertEquals(0x1000100, v.pvhEntry().orElseThrow());
        assertEquals(0x1006800, v.loadEnd());
        KernelKind.BzImage b = assertInstanceOf(KernelKind.BzImage.class, KernelClassifier.classify(bz));
        assertEquals(0x020f, b.protocolVersion());
        assertTrue(b.bootable());
    }

    @Test
    void namesWhatIsNotAKernel() throws IOException {
        assertReason("empty file", Files.write(dir.resolve("empty"), new byte[0]));
        assertReason("a directory", Files.createDirectory(dir.resolve("sub")));
        assertReason("no such file", dir.resolve("missing"));
        assertReason("neither an ELF vmlinux nor a bzImage", Files.writeString(dir.resolve("README"), "hello\n".repeat(200)));
        Fixtures.Elf arm = Fixtures.vmlinux();
        arm.machine = 183;
        assertReason("machine 183", Files.write(dir.resolve("arm64"), arm.build()));
        Fixtures.Elf e32 = Fixtures.vmlinux();
        e32.elfClass = 1;
        assertReason("32-bit", Files.write(dir.resolve("vmlinux32"), e32.build()));
        Fixtures.BzImage old = new Fixtures.BzImage();
        old.version = 0x0204;
        assertReason("older than 2.06", Files.write(dir.resolve("old"), old.build()));
        assertReason("truncated ELF", Files.write(dir.resolve("cut"), java.util.Arrays.copyOf(Fixtures.vmlinux().build(), 100)));
    }

    @Test
    void readsOnlyTheHeadersOfAHugeKernel() throws IOException {
        // A vmlinux whose segment data is 512 MiB of sparse file: classification must not read it.
        Fixtures.Elf elf = new Fixtures.Elf().entry(0x1000000).segment(0x1000000, new byte[16], 16).pvh(0x1000000, 4);
        byte[] header = elf.build();
        long dataOffset = 64 + 56 * 2 + elf.note().length;
        long bigSize = 512L << 20;
        ByteBuffer.wrap(header).order(java.nio.ByteOrder.LITTLE_ENDIAN)
                .putLong(64 + 32, bigSize).putLong(64 + 40, bigSize); // p_filesz, p_memsz of the PT_LOAD
        Path file = dir.resolve("huge");
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
            f.write(header);
            f.setLength(Fixtures.align(dataOffset, 16) + bigSize);
        }
        AtomicLong read = new AtomicLong();
        try (var ch = java.nio.channels.FileChannel.open(file)) {
            Source real = Source.of(ch);
            Source counting = new Source() {
                public long size() {
                    return real.size();
                }

                public void readFully(long position, ByteBuffer dst) throws IOException {
                    read.addAndGet(dst.remaining());
                    real.readFully(position, dst);
                }
            };
            assertInstanceOf(KernelKind.Vmlinux.class, KernelClassifier.classify(counting));
        }
        assertTrue(read.get() < 4096, "classifier read " + read.get() + " bytes");
    }

    static void assertReason(String words, Path file) {
        KernelKind.NotAKernel n = assertInstanceOf(KernelKind.NotAKernel.class, KernelClassifier.classify(file));
        assertTrue(n.reason().contains(words), n.reason());
        assertFalse(n.bootable());
    }
}
