package hg.vmm.internal.virtio.block;

import hg.kvm.KvmException;
import hg.kvm.sys.OfdLock;
import hg.vmm.ImageBusyException;
import hg.vmm.VmException;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HashMap;
import java.util.Map;

/**
 * A raw disk image opened for one device, holding an advisory lock while attached:
 * exclusive for read-write, shared for read-only. The lock is an open-file-description lock
 * ({@link OfdLock}): other processes and tools see it, and no other open or close of the file in
 * this JVM (a catalog listing, a completion) can drop it. Inside this JVM a registry lets a
 * reader join the one writer, which two locks would refuse: all users of one file share one
 * channel and one lock.
 */
public final class DiskImage implements AutoCloseable {

    /** One locked file shared by every user in this JVM: readers, or one writer and the readers that joined it. */
    private static final class Holder {
        final FileChannel channel;
        final OfdLock lock;
        /** Whether a read-write user is still among the users; it may leave before the readers that joined it. */
        boolean writer;
        int users;

        Holder(FileChannel channel, OfdLock lock, boolean writer) {
            this.channel = channel;
            this.lock = lock;
            this.writer = writer;
        }
    }

    private static final Map<Object, Holder> HOLDERS = new HashMap<>();

    private final Path path;
    private final boolean readOnly;
    private final FileChannel channel;
    private final int fd;
    private final Object key;
    private boolean closed;

    private DiskImage(Path path, boolean readOnly, Holder holder, Object key) {
        this.path = path;
        this.readOnly = readOnly;
        this.channel = holder.channel;
        this.fd = holder.lock.fd();
        this.key = key;
    }

    /** Opens and locks {@code path}; fails with a clear message when missing or busy. */
    public static DiskImage open(Path path, boolean readOnly) {
        return open(path, readOnly, true);
    }

    /**
     * Opens {@code path} read-only as a base that must not change while it is held: like
     * {@code open(path, true)}, but it also refuses to join a writer in this JVM, so no one
     * writes the file from its open to its close.
     */
    static DiskImage openFrozen(Path path) {
        return open(path, true, false);
    }

    private static DiskImage open(Path path, boolean readOnly, boolean mayJoinWriter) {
        if (!Files.isRegularFile(path)) {
            throw new VmException("disk image " + path + " does not exist or is not a regular file");
        }
        if (!readOnly && !Files.isWritable(path)) {
            throw new VmException("disk image " + path + " is not writable (attach it read-only)");
        }
        Object key;
        try {
            BasicFileAttributes attrs = Files.readAttributes(path, BasicFileAttributes.class);
            key = attrs.fileKey() != null ? attrs.fileKey() : path.toRealPath();
        } catch (IOException e) {
            throw new VmException("cannot read disk image " + path + ": " + e.getMessage(), e);
        }
        synchronized (HOLDERS) {
            Holder h = HOLDERS.get(key);
            if (h != null) {
                // A reader may join a writer (it sees a live file system, as it would under QEMU's
                // share-rw), but a writer never joins anyone: two writers, or readers whose view
                // changes under them unannounced, corrupt or mislead.
                if (!readOnly) {
                    throw new ImageBusyException("disk image " + path + " is already attached "
                            + (h.writer ? "read-write" : "read-only") + " to another VM", h.writer);
                }
                if (h.writer && !mayJoinWriter) {
                    throw new ImageBusyException("disk image " + path
                            + " is attached read-write to another VM: a base must not change under its overlays", true);
                }
                h.users++;
                return new DiskImage(path, readOnly, h, key);
            }
            OfdLock lock;
            try {
                lock = OfdLock.tryLock(path, readOnly).orElseThrow(() ->
                        new ImageBusyException("disk image " + path + " is locked by another process", readOnly));
            } catch (KvmException e) {
                throw new VmException("cannot lock disk image " + path + ": " + e.getMessage(), e);
            }
            FileChannel channel;
            try {
                channel = readOnly
                        ? FileChannel.open(path, StandardOpenOption.READ)
                        : FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
            } catch (NoSuchFileException e) {
                lock.close();
                throw new VmException("disk image " + path + " does not exist", e);
            } catch (IOException e) {
                lock.close();
                throw new VmException("cannot open disk image " + path + ": " + e.getMessage(), e);
            }
            h = new Holder(channel, lock, !readOnly);
            h.users = 1;
            HOLDERS.put(key, h);
            return new DiskImage(path, readOnly, h, key);
        }
    }

    private static void closeQuietly(FileChannel c) {
        if (c != null) {
            try {
                c.close();
            } catch (IOException ignored) {
                // nothing more to release
            }
        }
    }

    public Path path() {
        return path;
    }

    public boolean readOnly() {
        return readOnly;
    }

    public FileChannel channel() {
        return channel;
    }

    /**
     * A descriptor of the file for vectored I/O (the lock's: read-write when the first user was, read-only
     * otherwise, which is all a reader that joined a writer needs). Valid until {@link #close()}.
     */
    public int fd() {
        return fd;
    }

    /** Size in bytes right now. */
    public long size() throws IOException {
        return channel.size();
    }

    /** The last user in this JVM releases the lock and closes the channel. Idempotent. */
    @Override
    public void close() {
        synchronized (HOLDERS) {
            if (closed) {
                return;
            }
            closed = true;
            Holder h = HOLDERS.get(key);
            if (h != null && !readOnly) {
                h.writer = false;
            }
            if (h != null && --h.users == 0) {
                HOLDERS.remove(key);
                closeQuietly(h.channel);
                h.lock.close();
            }
        }
    }
}
