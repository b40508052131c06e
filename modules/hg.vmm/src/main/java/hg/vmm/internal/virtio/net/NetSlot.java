package hg.vmm.internal.virtio.net;

import hg.kvm.KvmException;
import hg.kvm.sys.OfdLock;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * A host-wide lease on one place of the guest network: its number picks the TAP name, the MAC and
 * the address. VM ids are only unique inside one VMM process, and the boot image runs one shell per
 * console, so the number is leased through a lock file that every hyper-gen process on the host
 * sees. The lock is the lease: a process that dies gives its numbers back with its file locks. It is
 * an open-file-description lock, so this process trying a number it already holds sees it taken
 * and cannot drop its own lease by opening the file again.
 */
public final class NetSlot implements AutoCloseable {
    /** Where the lock files live: a tmpfs, so nothing outlives the host's boot. */
    public static final Path DEFAULT_DIR = Path.of("/run/hyper-gen/net");

    private final int number;
    private final OfdLock lock;

    private NetSlot(int number, OfdLock lock) {
        this.number = number;
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
            Optional<OfdLock> lock;
            try {
                lock = OfdLock.tryLock(dir.resolve(n + ".lock"), false, true);
            } catch (KvmException e) {
                throw new IllegalStateException("cannot lease guest network address " + n + " in " + dir + ": "
                        + e.getMessage(), e);
            }
            if (lock.isPresent()) {
                return new NetSlot(n, lock.get());
            }
        }
        throw new IllegalStateException("every guest network address from " + preferred + " to " + max
                + " is leased by a running VM");
    }

    public int number() {
        return number;
    }

    /** Gives the number back. Idempotent. */
    @Override
    public void close() {
        lock.close();
    }
}
