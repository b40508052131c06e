package hg.vmm.internal.virtio.block;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * Copies a raw disk image, leaving a hole wherever a 4 KiB block is all zeros: a mostly empty
 * disk copies fast and costs on disk only what it holds. The copy appears whole or not at all.
 */
public final class SparseCopy {

    static final int BLOCK = 4096;
    private static final int CHUNK = 1 << 20;
    private static final MemorySegment ZEROS = MemorySegment.ofArray(new byte[BLOCK]);
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");

    private SparseCopy() {
    }

    /**
     * Copies {@code from} to {@code to} (mode 0600), which must not exist yet. The copy is written
     * under a temporary name beside {@code to}, synced, then linked to {@code to} in one step that
     * refuses to replace a file; on any failure the temporary file is removed. The caller keeps
     * writers off {@code from} meanwhile (a paused VM, or a lock).
     */
    public static void copy(Path from, Path to) throws IOException {
        copy(from, to, () -> { });
    }

    /**
     * Copies what the guest sees on {@code disk} (for an overlay: its writes over its base) to
     * {@code to}, as {@link #copy(Path, Path)} does; the caller keeps the disk's device still.
     */
    public static void copy(BlockBackend disk, Path to) throws IOException {
        publish(disk.path(), to, disk.size(), disk::read, () -> { });
    }

    /** Where the bytes come from: a file or a disk's back end. */
    @FunctionalInterface
    private interface Reader {
        int read(ByteBuffer dst, long offset) throws IOException;
    }

    /** Something done between the copy and its publication: a test's way to fail there. */
    interface Step {
        void run() throws IOException;
    }

    static void copy(Path from, Path to, Step beforePublish) throws IOException {
        if (!Files.isRegularFile(from)) {
            throw new IOException("cannot copy " + from + ": not a regular file");
        }
        try (FileChannel in = FileChannel.open(from, StandardOpenOption.READ)) {
            publish(from, to, in.size(), in::read, beforePublish);
        } catch (IOException e) {
            if (e.getMessage() != null && e.getMessage().startsWith("cannot copy")) {
                throw e;
            }
            throw new IOException("cannot copy " + from + " to " + to + ": " + IoErrors.reason(e), e);
        }
    }

    private static void publish(Path from, Path to, long size, Reader in, Step beforePublish) throws IOException {
        if (Files.exists(to, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            throw new IOException("cannot copy " + from + " to " + to + ": " + to + " already exists");
        }
        Path dir = to.toAbsolutePath().getParent();
        if (!Files.isDirectory(dir)) {
            throw new IOException("cannot copy " + from + " to " + to + ": directory " + dir + " does not exist");
        }
        Path temp;
        try {
            temp = Files.createTempFile(dir, "." + to.getFileName() + ".", ".partial",
                    PosixFilePermissions.asFileAttribute(OWNER_ONLY));
        } catch (IOException e) {
            throw new IOException("cannot copy " + from + " to " + to + ": " + IoErrors.reason(e), e);
        }
        try {
            Files.setPosixFilePermissions(temp, OWNER_ONLY);   // the umask may have taken more
            try (RandomAccessFile out = new RandomAccessFile(temp.toFile(), "rw")) {
                copyData(in, out.getChannel(), size, from);
                out.setLength(size);   // trailing zero blocks: a hole to the end
                out.getChannel().force(true);
            }
            beforePublish.run();
            try {
                Files.createLink(to, temp);
            } catch (FileAlreadyExistsException e) {
                throw new IOException("cannot copy " + from + " to " + to + ": " + to + " appeared meanwhile", e);
            }
            Files.delete(temp);
            syncDirectory(dir);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(temp);
            if (e instanceof IOException io && (io.getMessage() == null || !io.getMessage().startsWith("cannot copy"))) {
                throw new IOException("cannot copy " + from + " to " + to + ": " + IoErrors.reason(io), io);
            }
            throw e;
        }
    }

    private static void copyData(Reader in, FileChannel out, long size, Path from) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocateDirect(CHUNK);
        MemorySegment segment = MemorySegment.ofBuffer(buffer);
        for (long offset = 0; offset < size; ) {
            int n = (int) Math.min(CHUNK, size - offset);
            buffer.clear().limit(n);
            while (buffer.hasRemaining()) {
                if (in.read(buffer, offset + buffer.position()) <= 0) {
                    throw new IOException("cannot copy " + from + ": it shrank while being copied");
                }
            }
            // Runs of blocks with data go out in one write each; zero blocks are skipped, leaving holes.
            int run = -1;
            for (int b = 0; b < n; b += BLOCK) {
                int length = Math.min(BLOCK, n - b);
                boolean zero = segment.asSlice(b, length).mismatch(ZEROS.asSlice(0, length)) == -1;
                if (!zero && run < 0) {
                    run = b;
                } else if (zero && run >= 0) {
                    write(out, buffer, run, b, offset);
                    run = -1;
                }
            }
            if (run >= 0) {
                write(out, buffer, run, n, offset);
            }
            offset += n;
        }
    }

    private static void write(FileChannel out, ByteBuffer buffer, int from, int to, long offset) throws IOException {
        buffer.limit(to).position(from);
        while (buffer.hasRemaining()) {
            out.write(buffer, offset + buffer.position());
        }
    }

    /** The new name survives a crash only once its directory is synced. */
    private static void syncDirectory(Path dir) throws IOException {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        }
    }
}
