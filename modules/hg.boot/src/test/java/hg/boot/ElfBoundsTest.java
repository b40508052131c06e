package hg.boot;

import hg.boot.internal.Source;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A file in the kernel directory is read by every kernel_list: however its ELF headers are crafted, the
 * classifier reads a bounded number of bytes and names what is wrong. The old reader read every PT_NOTE
 * segment (up to 1 MiB each) once per program header: 65,534 of them took minutes.
 */
class ElfBoundsTest {

    @Test
    void sixtyFiveThousandNoteHeadersAreRefusedAfterTheFileHeader() {
        byte[] flood = Fixtures.noteFlood(65_533, 87_000, 0, 0); // 65,534 program headers, 1 MiB of notes each
        Counted c = classify(flood);
        KernelKind.NotAKernel n = assertInstanceOf(KernelKind.NotAKernel.class, c.kind());
        assertTrue(n.reason().contains("65534 program headers"), n.reason());
        assertTrue(c.bytesRead() <= ElfBoundsPropertiesTest.READ_BUDGET, c.bytesRead() + " bytes read");
    }

    @Test
    void aNoteSegmentOf65534NotesIsRefused() {
        byte[] flood = Fixtures.noteFlood(1, 65_534, 0, 0);
        Counted c = classify(flood);
        KernelKind.NotAKernel n = assertInstanceOf(KernelKind.NotAKernel.class, c.kind());
        assertTrue(n.reason().contains("notes"), n.reason());
        assertTrue(c.bytesRead() <= ElfBoundsPropertiesTest.READ_BUDGET, c.bytesRead() + " bytes read");
    }

    @Test
    void manyNoteSegmentsAreRefused() {
        Counted c = classify(Fixtures.noteFlood(40, 4, 4, 8));
        KernelKind.NotAKernel n = assertInstanceOf(KernelKind.NotAKernel.class, c.kind());
        assertTrue(n.reason().contains("note segments"), n.reason());
    }

    @Test
    void aKernelShapedNoteSegmentStillLoads() {
        // One PT_NOTE with 40 notes of a Xen-sized name and value: what a real vmlinux carries.
        Counted c = classify(Fixtures.noteFlood(1, 40, 4, 8));
        assertInstanceOf(KernelKind.Vmlinux.class, c.kind());
        assertInstanceOf(KernelKind.Vmlinux.class, KernelClassifier.classify(Fixtures.vmlinux().build()));
    }

    record Counted(KernelKind kind, long bytesRead) {}

    /** Classifies through a source that counts the bytes the parser asks for. */
    static Counted classify(byte[] image) {
        Source real = Source.of(image);
        AtomicLong read = new AtomicLong();
        Source counting = new Source() {
            @Override
            public long size() {
                return real.size();
            }

            @Override
            public void readFully(long position, ByteBuffer dst) throws IOException {
                read.addAndGet(dst.remaining());
                real.readFully(position, dst);
            }
        };
        try {
            return new Counted(KernelClassifier.classify(counting), read.get());
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }
}
