package hg.vmm.internal.virtio.block;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Set;

/**
 * A disk that reads an unchanging base image and keeps what this VM writes in a private overlay
 * file, so many VMs can start from one frozen disk. The base is held read-only and refuses every
 * writer, in this JVM and (through its lock) in other processes, for as long as the overlay is open.
 *
 * <p>The overlay is a sparse file of the base's size: a written {@link #CLUSTER} sits at its own
 * offset, so the file costs what the VM wrote. Which clusters the overlay holds is an in-memory
 * bitmap of {@code size / CLUSTER} bits, fixed at open: a guest cannot make it grow. A write that
 * covers part of a cluster the overlay lacks first copies that cluster from the base.
 *
 * <p>A discarded overlay (the default) is unlinked as soon as it is created: its space lives only
 * as long as the open file, so a VMM that dies leaves nothing behind. A kept overlay stays at its
 * path, but it cannot be opened again: which clusters it holds is not recorded anywhere but
 * in memory, and a hole reads as zeros, not as the base.
 *
 * <p>Every method is synchronized: the VM's one I/O thread does the transfers, and a close
 * from another thread waits for the transfer under way.
 */
public final class CowOverlay implements BlockBackend {

    public static final int CLUSTER = 4096;

    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");

    private final DiskImage base;
    private final FileChannel baseChannel;
    private final Path overlayPath;
    private final RandomAccessFile overlayFile;
    private final FileChannel overlay;
    private final long size;
    private final long[] written;
    /** One cluster, reused for every copy-up: no allocation per write. */
    private final ByteBuffer scratch = ByteBuffer.allocateDirect(CLUSTER);
    private long writtenClusters;
    private boolean closed;

    private CowOverlay(DiskImage base, Path overlayPath, RandomAccessFile overlayFile, long size, long[] written) {
        this.base = base;
        this.baseChannel = base.channel();
        this.overlayPath = overlayPath;
        this.overlayFile = overlayFile;
        this.overlay = overlayFile.getChannel();
        this.size = size;
        this.written = written;
    }

    /**
     * Locks {@code base} read-only and creates {@code overlay} (mode 0600; an existing file is
     * refused). A busy base fails as {@link DiskImage#open} does; the overlay's troubles as an IOException.
     *
     * @param keep leave the overlay file at its path after close (it cannot be reopened, see above)
     */
    public static CowOverlay create(Path base, Path overlay, boolean keep) throws IOException {
        DiskImage image = DiskImage.openFrozen(base);
        RandomAccessFile file = null;
        boolean created = false;
        try {
            long size = image.size();
            long[] bitmap = bitmap(size, base);
            try {
                Files.createFile(overlay, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
            } catch (FileAlreadyExistsException e) {
                throw new IOException("overlay " + overlay + " already exists: an overlay is always created fresh", e);
            }
            created = true;
            // Exactly 0600 whatever the umask: the overlay holds guest data.
            Files.setPosixFilePermissions(overlay, OWNER_ONLY);
            file = new RandomAccessFile(overlay.toFile(), "rw");
            file.setLength(size);   // ftruncate: a hole, no blocks
            if (!keep) {
                Files.delete(overlay);
                created = false;
            }
            return new CowOverlay(image, overlay, file, size, bitmap);
        } catch (IOException | RuntimeException e) {
            closeQuietly(file);
            if (created) {
                Files.deleteIfExists(overlay);
            }
            image.close();
            if (e instanceof IOException io && !ours(io)) {
                throw new IOException("cannot create overlay " + overlay + ": " + IoErrors.reason(io), io);
            }
            throw e;
        }
    }

    private static boolean ours(IOException e) {
        return e.getMessage() != null && (e.getMessage().startsWith("overlay ") || e.getMessage().startsWith("base "));
    }

    private static long[] bitmap(long size, Path base) throws IOException {
        long clusters = Math.ceilDiv(size, CLUSTER);
        long words = Math.ceilDiv(clusters, Long.SIZE);
        if (words > Integer.MAX_VALUE - 8) {
            throw new IOException("base " + base + " is too large for an overlay (" + size + " bytes)");
        }
        return new long[(int) words];
    }

    private static void closeQuietly(RandomAccessFile file) {
        if (file != null) {
            try {
                file.close();
            } catch (IOException ignored) {
                // nothing more to release
            }
        }
    }

    /** Where the overlay file is (or was, for a discarded one: it is unlinked at once). */
    public Path overlayPath() {
        return overlayPath;
    }

    /** How many clusters the overlay holds: what this VM has written, in {@link #CLUSTER}s. */
    public synchronized long writtenClusters() {
        return writtenClusters;
    }

    @Override
    public synchronized int read(ByteBuffer dst, long offset) throws IOException {
        ensureOpen();
        if (offset < 0) {
            throw new IOException("read at " + offset + " outside overlay " + overlayPath);
        }
        if (offset >= size) {
            return 0;
        }
        int want = (int) Math.min(dst.remaining(), size - offset);
        int limit = dst.limit();
        long end = offset + want;
        try {
            long position = offset;
            while (position < end) {
                // One run of clusters that all come from the same file, in one read.
                boolean fromOverlay = isWritten(position / CLUSTER);
                long runEnd = (position / CLUSTER + 1) * CLUSTER;
                while (runEnd < end && isWritten(runEnd / CLUSTER) == fromOverlay) {
                    runEnd += CLUSTER;
                }
                runEnd = Math.min(runEnd, end);
                dst.limit(dst.position() + (int) (runEnd - position));
                readFully(fromOverlay ? overlay : baseChannel, dst, position);
                position = runEnd;
            }
        } finally {
            dst.limit(limit);
        }
        return want;
    }

    @Override
    public synchronized void write(ByteBuffer src, long offset) throws IOException {
        ensureOpen();
        int length = src.remaining();
        if (offset < 0 || offset > size - length) {
            throw new IOException("write of " + length + " bytes at " + offset + " outside overlay "
                    + overlayPath + " of " + size + " bytes");
        }
        if (length == 0) {
            return;
        }
        long end = offset + length;
        long first = offset / CLUSTER;
        long last = (end - 1) / CLUSTER;
        if (offset % CLUSTER != 0) {
            copyUp(first);
        }
        if (end != Math.min((last + 1) * CLUSTER, size)) {
            copyUp(last);
        }
        long position = offset;
        while (src.hasRemaining()) {
            position += overlay.write(src, position);
        }
        for (long c = first; c <= last; c++) {
            markWritten(c);
        }
    }

    /** Brings a cluster's base content into the overlay before part of it is overwritten. */
    private void copyUp(long cluster) throws IOException {
        if (isWritten(cluster)) {
            return;
        }
        long start = cluster * CLUSTER;
        scratch.clear().limit((int) Math.min(CLUSTER, size - start));
        readFully(baseChannel, scratch, start);
        scratch.flip();
        long position = start;
        while (scratch.hasRemaining()) {
            position += overlay.write(scratch, position);
        }
        markWritten(cluster);
    }

    /** Fills {@code dst}; past the file's end (a base cut short behind the lock's back) it reads zeros. */
    private static void readFully(FileChannel from, ByteBuffer dst, long offset) throws IOException {
        long position = offset;
        while (dst.hasRemaining()) {
            int n = from.read(dst, position);
            if (n < 0) {
                MemorySegment.ofBuffer(dst).fill((byte) 0);
                dst.position(dst.limit());
                return;
            }
            position += n;
        }
    }

    private boolean isWritten(long cluster) {
        return (written[(int) (cluster >>> 6)] & (1L << cluster)) != 0;
    }

    private void markWritten(long cluster) {
        int word = (int) (cluster >>> 6);
        long bit = 1L << cluster;
        if ((written[word] & bit) == 0) {
            written[word] |= bit;
            writtenClusters++;
        }
    }

    private void ensureOpen() throws IOException {
        if (closed) {
            throw new IOException("overlay " + overlayPath + " is closed");
        }
    }

    /** Piece by piece: each may fall on clusters of the overlay and of the base alike. */
    @Override
    public synchronized long read(List<MemorySegment> dst, long offset) throws IOException {
        long done = 0;
        for (MemorySegment piece : dst) {
            int n = read(piece.asByteBuffer(), offset + done);
            done += n;
            if (n < piece.byteSize()) {
                break;
            }
        }
        return done;
    }

    /** Served where it is asked, as before clones had a cache check: an overlay's reads take its lock anyway. */
    @Override
    public long readIfCached(List<MemorySegment> dst, long offset) throws IOException {
        return read(dst, offset);
    }

    @Override
    public synchronized void write(List<MemorySegment> src, long offset) throws IOException {
        long position = offset;
        for (MemorySegment piece : src) {
            write(piece.asByteBuffer(), position);
            position += piece.byteSize();
        }
    }

    @Override
    public synchronized void flush() throws IOException {
        ensureOpen();
        overlay.force(false);
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public boolean readOnly() {
        return false;
    }

    /** The base: what the VM's disk is, to whoever lists it. */
    @Override
    public Path path() {
        return base.path();
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        closeQuietly(overlayFile);
        base.close();
    }
}
