package hg.imagetools;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ThreadLocalRandom;

/**
 * An output written beside its target and renamed over it once complete: a failed or interrupted
 * write never leaves half an image under the target's name, and a target a running VM holds is
 * refused rather than rewritten under it. hyper-gen's VMM locks a disk image while it runs (an
 * exclusive lock for a writable disk, a shared one for a read-only disk); such a lock conflicts with
 * the lock tried here whether it is an open-file-description lock or a POSIX one.
 */
final class OutputFile implements AutoCloseable {
    private final Path target;
    private final Path temp;
    private boolean committed;

    private OutputFile(Path target, Path temp) {
        this.target = target;
        this.temp = temp;
    }

    /**
     * Checks {@code target} and creates the temporary file beside it. A symlink target is followed:
     * the file it names is replaced and the link stays.
     */
    static OutputFile create(Path target) throws IOException {
        Path real = resolve(target);
        refuseIfInUse(real);
        Path dir = real.toAbsolutePath().getParent();
        String name = real.getFileName().toString();
        for (int tries = 0; ; tries++) {
            // hidden, and named after the target so a leftover from a killed run is recognisable
            Path temp = dir.resolve("." + name + "." + Long.toHexString(ThreadLocalRandom.current().nextLong() & 0xffff_ffffL) + ".tmp");
            try {
                Files.newByteChannel(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE).close();
            } catch (FileAlreadyExistsException e) {
                if (tries < 10) continue;
                throw e;
            }
            if (Files.isRegularFile(real)) Files.setPosixFilePermissions(temp, Files.getPosixFilePermissions(real));
            return new OutputFile(real, temp);
        }
    }

    /** Where to write. */
    Path temp() { return temp; }

    /** Makes the written file durable and puts it under the target's name, if nobody holds the target meanwhile. */
    void commit() throws IOException {
        try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
        refuseIfInUse(target); // a VM may have started while the image was being built
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        committed = true;
    }

    /** Removes the temporary file unless it was committed. */
    @Override
    public void close() throws IOException {
        if (!committed) Files.deleteIfExists(temp);
    }

    private static Path resolve(Path target) throws IOException {
        Path real = Files.isSymbolicLink(target) ? target.toRealPath() : target;
        if (Files.exists(real, LinkOption.NOFOLLOW_LINKS) && !Files.isRegularFile(real, LinkOption.NOFOLLOW_LINKS))
            throw new ImageToolsException("output " + target + " exists and is not a regular file");
        if (real.getFileName() == null) throw new ImageToolsException("output " + target + " names no file");
        return real;
    }

    /**
     * Refuses {@code target} when any process holds a lock on it. An exclusive attempt conflicts
     * with readers' shared locks and writers' exclusive ones alike; it is released at once. Without
     * write permission only a shared attempt is possible, which still finds a writer.
     */
    static void refuseIfInUse(Path target) throws IOException {
        if (!Files.isRegularFile(target)) return;
        boolean writable = Files.isWritable(target);
        try (FileChannel ch = writable ? FileChannel.open(target, StandardOpenOption.WRITE) : FileChannel.open(target, StandardOpenOption.READ)) {
            FileLock lock;
            try {
                lock = ch.tryLock(0, Long.MAX_VALUE, !writable);
            } catch (OverlappingFileLockException e) {
                lock = null; // held by this very JVM, e.g. a VM started in-process
            }
            if (lock == null)
                throw new ImageToolsException.InUse(target + " is in use (a running VM holds a lock on it); stop the VM or write elsewhere");
            lock.release();
        } catch (AccessDeniedException e) {
            // cannot open it to check: the rename will say whether it can be replaced
        }
    }
}
