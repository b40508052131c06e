package hg.vmm.internal;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A host-wide lease on one place of the guest network: its number picks the TAP name, the MAC and
 * the address. VM ids are only unique inside one VMM process, and the boot image runs one shell per
 * console, so the number is leased through a lock file that every hyper-gen process on the host
 * sees. The lock is the lease: a process that dies gives its numbers back with its file locks.
 */
public final class NetSlot implements AutoCloseable {
    /** Where the lock files live: a tmpfs, so nothing outlives the host's boot. */
    public static final Path DEFAULT_DIR = Path.of("/run/hyper-gen/net");

    private final int number;
    private final FileChannel channel;
    private final FileLock lock;

    private NetSlot(int number, FileChannel channel, FileLock lock) {
        this.number = number;
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Leases {@code preferred} if no process holds it, else the next free number up to
     * {@code max}. Throws {@link IllegalStateException} with one line when none is free or the
     * lock directory cannot be used.
     */
    public static NetSlot lease(Path dir, int preferred, int max) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new IllegalStateException("cannot make the network lease directory " + dir + ": " + e.getMessage(), e);
        }
        for (int n = preferred; n <= max; n++) {
            NetSlot slot = tryLease(dir, n);
            if (slot != null) {
                return slot;
            }
        }
        throw new IllegalStateException("every guest network address from " + preferred + " to " + max
                + " is leased by a running VM");
    }

    private static NetSlot tryLease(Path dir, int n) {
        FileChannel channel = null;
        try {
            channel = FileChannel.open(dir.resolve(n + ".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock lock = channel.tryLock();
            if (lock != null) {
                return new NetSlot(n, channel, lock);
            }
        } catch (OverlappingFileLockException e) {
            // this process already holds it
        } catch (IOException e) {
            throw new IllegalStateException("cannot lease guest network address " + n + " in " + dir + ": "
                    + e.getMessage(), e);
        }
        close(channel);
        return null;
    }

    public int number() {
        return number;
    }

    /** Gives the number back. Idempotent. */
    @Override
    public void close() {
        try {
            lock.release();
        } catch (IOException ignored) {
            // closing the channel drops it anyway
        }
        close(channel);
    }

    private static void close(FileChannel channel) {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // nothing more to release
            }
        }
    }
}
