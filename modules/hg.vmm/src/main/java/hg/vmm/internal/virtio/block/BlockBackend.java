package hg.vmm.internal.virtio.block;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;

/**
 * Where a virtio-blk device keeps its sectors: a raw image ({@link ImageBackend}) or a private
 * copy-on-write layer over a shared, unchanging base ({@link CowOverlay}).
 *
 * <p>Callers keep transfers inside {@code [0, size())}; {@link VirtioBlock} checks every request
 * against the capacity it announced before it gets here.
 */
public sealed interface BlockBackend extends AutoCloseable permits ImageBackend, CowOverlay {

    /**
     * Reads {@code dst.remaining()} bytes at {@code offset}, advancing {@code dst}. It fills
     * {@code dst} unless the disk ends first; returns how many bytes it placed.
     */
    int read(ByteBuffer dst, long offset) throws IOException;

    /** Writes all of {@code src} at {@code offset}, advancing {@code src}. */
    void write(ByteBuffer src, long offset) throws IOException;

    /**
     * Reads into {@code dst}, pieces of native memory (a request's guest pages) filled in order, from
     * {@code offset}; returns how many bytes it placed, fewer than their total only where the disk ends.
     */
    long read(List<MemorySegment> dst, long offset) throws IOException;

    /**
     * {@link #read(List, long)} if that takes no wait for the device under the file (the page cache holds
     * the data, or the file system is in memory); else {@link hg.kvm.sys.VectoredIo#NOT_CACHED}, and the
     * caller reads again where waiting does no harm.
     */
    long readIfCached(List<MemorySegment> dst, long offset) throws IOException;

    /** Writes all of {@code src}, pieces of native memory in order, at {@code offset}. */
    void write(List<MemorySegment> src, long offset) throws IOException;

    /** Makes every completed write durable (what the guest's flush asks for). */
    void flush() throws IOException;

    /** The disk's size in bytes, fixed when the back end was opened. */
    long size();

    boolean readOnly();

    /** The image a user knows this disk by: the image itself, or an overlay's base. */
    Path path();

    /** Releases the files and their locks. Idempotent. */
    @Override
    void close();
}
