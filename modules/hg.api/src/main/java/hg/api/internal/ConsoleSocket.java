package hg.api.internal;

import hg.host.HostException;
import hg.host.Machines;
import hg.host.Machines.State;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;
import org.eclipse.jetty.websocket.api.StatusCode;

/**
 * One client on a VM's serial console over a WebSocket: the VM's output goes out as binary frames, the
 * client's binary frames are keystrokes. When the VM stops the socket closes with the reason as its line;
 * when the client goes, the console is detached and the VM runs on.
 */
public final class ConsoleSocket implements Session.Listener.AutoDemanding {
    /** Output sent and not yet written to the client; past it, output is dropped and counted. */
    static final int MAX_PENDING = 1024 * 1024;
    /** A close frame's reason holds at most 123 bytes. */
    private static final int MAX_REASON = 123;
    private static final long WATCH_MS = 100;

    private final Machines machines;
    private final int vmId;
    private final ScheduledExecutorService ticker;
    private final AtomicLong pending = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicBoolean detached = new AtomicBoolean();
    private volatile Session session;
    private volatile Machines.Console console;
    private volatile ScheduledFuture<?> watcher;

    public ConsoleSocket(Machines machines, int vmId, ScheduledExecutorService ticker) {
        this.machines = machines;
        this.vmId = vmId;
        this.ticker = ticker;
    }

    @Override
    public void onWebSocketOpen(Session session) {
        this.session = session;
        try {
            console = machines.attach(vmId, new FrameSink());
        } catch (HostException e) {
            session.close(StatusCode.SERVER_ERROR, reason(e.getMessage()), Callback.NOOP);
            return;
        } catch (RuntimeException e) {
            session.close(StatusCode.SERVER_ERROR, "the console could not be attached", Callback.NOOP);
            return;
        }
        // Machines tells a stop only when asked: look now and then, and end the stream with the reason.
        watcher = ticker.scheduleWithFixedDelay(this::watch, WATCH_MS, WATCH_MS, TimeUnit.MILLISECONDS);
    }

    private void watch() {
        Machines.Console c = console;
        if (c != null && c.state() instanceof State.Stopped s) {
            detach(); // first, so what the VM said last goes out before the close frame
            long lost = dropped.get();
            session.close(StatusCode.NORMAL, reason(s.reason() + (lost > 0 ? " (" + lost + " bytes of output dropped)" : "")),
                    Callback.NOOP);
        }
    }

    @Override
    public void onWebSocketBinary(ByteBuffer payload, Callback callback) {
        byte[] bytes = new byte[payload.remaining()];
        payload.get(bytes);
        Machines.Console c = console;
        if (c != null) {
            try {
                c.input(bytes);
            } catch (HostException e) {
                session.close(StatusCode.SERVER_ERROR, reason(e.getMessage()), Callback.NOOP);
            }
        }
        callback.succeed();
    }

    @Override
    public void onWebSocketClose(int statusCode, String reason, Callback callback) {
        detach();
        callback.succeed();
    }

    @Override
    public void onWebSocketError(Throwable cause) {
        detach();
    }

    /** Once: stops watching and lets the VM's console go; the VM runs on. */
    private void detach() {
        if (!detached.compareAndSet(false, true)) {
            return;
        }
        ScheduledFuture<?> w = watcher;
        if (w != null) {
            w.cancel(false);
        }
        Machines.Console c = console;
        if (c != null) {
            c.close();
        }
    }

    /** The bytes of a close reason, cut to what a close frame holds without splitting a character. */
    static String reason(String line) {
        byte[] b = line.getBytes(StandardCharsets.UTF_8);
        if (b.length <= MAX_REASON) {
            return line;
        }
        String cut = line;
        while (cut.getBytes(StandardCharsets.UTF_8).length > MAX_REASON - 3) {
            cut = cut.substring(0, cut.length() - 1);
        }
        return cut + "...";
    }

    /** The VM's output into frames, never waiting: what the client cannot take in time is dropped and counted. */
    private final class FrameSink extends OutputStream {
        @Override
        public void write(int b) {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) {
            Session s = session;
            if (len == 0 || s == null || !s.isOpen()) {
                return;
            }
            if (pending.addAndGet(len) > MAX_PENDING) {
                pending.addAndGet(-len);
                dropped.addAndGet(len);
                return;
            }
            ByteBuffer frame = ByteBuffer.wrap(java.util.Arrays.copyOfRange(b, off, off + len));
            s.sendBinary(frame, Callback.from(() -> pending.addAndGet(-len), t -> pending.addAndGet(-len)));
        }
    }
}
