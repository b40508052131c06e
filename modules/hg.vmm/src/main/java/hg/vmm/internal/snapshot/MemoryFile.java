package hg.vmm.internal.snapshot;

import hg.kvm.GuestMemory;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

/**
 * A guest's RAM as a file: its ranges one after another, written straight from the guest's
 * mapping (no copy through a buffer of ours), with all-zero pages left as holes, so a 1 GiB
 * guest that used 100 MiB costs about 100 MiB on disk and in write time.
 * {@link GuestMemory#mapFile} maps it back.
 */
public final class MemoryFile {
    private static final int PAGE = 4096;
    private static final MemorySegment ZERO_PAGE = MemorySegment.ofArray(new byte[PAGE]);

    private MemoryFile() {
    }

    /** What {@link #write} wrote: bytes of the guest, and how many of them were not holes. */
    public record Written(long size, long dataBytes) {
    }

    public static Written write(GuestMemory memory, Path target) throws IOException {
        long[] data = {0};
        PrivateFile.write(target, out -> data[0] = writeRanges(memory, out));
        return new Written(memory.size(), data[0]);
    }

    private static long writeRanges(GuestMemory memory, FileChannel out) throws IOException {
        long fileOffset = 0;
        long data = 0;
        for (GuestMemory.Region r : memory.regions()) {
            MemorySegment host = r.host();
            // Pages the guest never touched are not even read (a fresh 1 GiB guest has mostly those).
            java.util.BitSet untouched = memory.knownZeroPages(r);
            long runStart = -1;
            for (long page = 0; page <= host.byteSize(); page += PAGE) {
                boolean zero = page == host.byteSize() || untouched.get((int) (page / PAGE))
                        || MemorySegment.mismatch(host, page, page + PAGE, ZERO_PAGE, 0, PAGE) == -1;
                if (!zero && runStart < 0) {
                    runStart = page;
                } else if (zero && runStart >= 0) {
                    data += writeFully(out, host.asSlice(runStart, page - runStart), fileOffset + runStart);
                    runStart = -1;
                }
            }
            fileOffset += host.byteSize();
        }
        if (out.size() < fileOffset) {
            // Holes at the end: one byte gives the file its full length.
            writeFully(out, MemorySegment.ofArray(new byte[1]), fileOffset - 1);
        }
        return data;
    }

    private static long writeFully(FileChannel out, MemorySegment from, long position) throws IOException {
        long written = 0;
        // asByteBuffer cannot exceed 2 GiB: long runs go in slices.
        for (long off = 0; off < from.byteSize(); off += 1 << 30) {
            ByteBuffer b = from.asSlice(off, Math.min(1 << 30, from.byteSize() - off)).asByteBuffer();
            long at = position + off;
            while (b.hasRemaining()) {
                at += out.write(b, at);
            }
            written += Math.min(1 << 30, from.byteSize() - off);
        }
        return written;
    }
}
