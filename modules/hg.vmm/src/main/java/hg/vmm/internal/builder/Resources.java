package hg.vmm.internal.builder;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Everything a VM holds that must be given back, released in reverse order of acquisition: a
 * failed create and a destroyed VM release through the same stack. {@link #closing()} turns true
 * before the first release, so interrupt triggers stop writing to eventfds about to close (a
 * closed fd number may already belong to someone else).
 */
public final class Resources {
    private static final System.Logger LOG = System.getLogger("hg.vmm");

    private final String owner;
    private final Deque<AutoCloseable> stack = new ArrayDeque<>();
    private volatile boolean closing;

    public Resources(String owner) {
        this.owner = owner;
    }

    /** Takes {@code resource} into the stack and returns it. */
    public synchronized <T extends AutoCloseable> T push(T resource) {
        stack.push(resource);
        return resource;
    }

    public boolean closing() {
        return closing;
    }

    /** From now on triggers stay silent; call before the release. */
    public void markClosing() {
        closing = true;
    }

    /** Closes everything, newest first; a failed close is logged and the rest still released. Idempotent. */
    public void releaseAll() {
        closing = true;
        while (true) {
            AutoCloseable r;
            synchronized (this) {
                r = stack.poll();
            }
            if (r == null) {
                return;
            }
            try {
                r.close();
            } catch (Exception e) {
                LOG.log(System.Logger.Level.WARNING, owner + ": releasing " + r + " failed: " + e);
            }
        }
    }
}
