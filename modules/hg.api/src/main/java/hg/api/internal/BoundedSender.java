package hg.api.internal;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Output for a client that may be slow: sent without waiting while the bytes in flight stay under a bound,
 * dropped and counted past it, so a client that cannot keep up never makes the daemon buffer without limit.
 */
public final class BoundedSender {
    /** Sends one buffer and calls {@code done} once it is written or has failed. */
    @FunctionalInterface
    public interface Send {
        void send(ByteBuffer bytes, Runnable done);
    }

    private final long maxInFlight;
    private final Send send;
    private final AtomicLong inFlight = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();

    public BoundedSender(long maxInFlight, Send send) {
        this.maxInFlight = maxInFlight;
        this.send = send;
    }

    public void offer(byte[] b, int off, int len) {
        if (len == 0) {
            return;
        }
        if (inFlight.addAndGet(len) > maxInFlight) {
            inFlight.addAndGet(-len);
            dropped.addAndGet(len);
            return;
        }
        send.send(ByteBuffer.wrap(Arrays.copyOfRange(b, off, off + len)), () -> inFlight.addAndGet(-len));
    }

    public long inFlight() {
        return inFlight.get();
    }

    public long dropped() {
        return dropped.get();
    }
}
