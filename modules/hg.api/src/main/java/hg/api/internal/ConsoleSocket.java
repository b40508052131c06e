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
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.websocket.core.CloseStatus;
import org.eclipse.jetty.websocket.core.CoreSession;
import org.eclipse.jetty.websocket.core.Frame;
import org.eclipse.jetty.websocket.core.FrameHandler;
import org.eclipse.jetty.websocket.core.OpCode;

/**
 * One client on a VM's serial console over a WebSocket: the VM's output goes out as binary frames, the
 * client's binary frames are keystrokes. When the VM stops the socket closes with the reason as its line;
 * when the client goes, the console is detached and the VM runs on.
 */
public final class ConsoleSocket implements FrameHandler {
    /** Output sent and not yet written to the client; past it, output is dropped and counted. */
    static final int MAX_PENDING = 1024 * 1024;
    /** A close frame's reason holds at most 123 bytes. */
    private static final int MAX_REASON = 123;
    private static final long WATCH_MS = 100;

    private final Machines machines;
    private final int vmId;
    private final ScheduledExecutorService ticker;
    private final BoundedSender frames = new BoundedSender(MAX_PENDING, this::send);
    private final AtomicBoolean detached = new AtomicBoolean();
    private volatile CoreSession session;
    private volatile Machines.Console console;
    private volatile ScheduledFuture<?> watcher;

    public ConsoleSocket(Machines machines, int vmId, ScheduledExecutorService ticker) {
        this.machines = machines;
        this.vmId = vmId;
        this.ticker = ticker;
    }

    @Override
    public void onOpen(CoreSession session, Callback callback) {
        this.session = session;
        callback.succeeded();
        try {
            console = machines.attach(vmId, new FrameSink());
        } catch (HostException e) {
            session.close(CloseStatus.SERVER_ERROR, reason(e.getMessage()), Callback.NOOP);
            return;
        } catch (RuntimeException e) {
            session.close(CloseStatus.SERVER_ERROR, "the console could not be attached", Callback.NOOP);
            return;
        }
        // Machines tells a stop only when asked: look now and then, and end the stream with the reason.
        watcher = ticker.scheduleWithFixedDelay(this::watch, WATCH_MS, WATCH_MS, TimeUnit.MILLISECONDS);
        session.demand();
    }

    private void watch() {
        Machines.Console c = console;
        if (c != null && c.state() instanceof State.Stopped s) {
            detach(); // first, so what the VM said last goes out before the close frame
            long lost = frames.dropped();
            session.close(CloseStatus.NORMAL, reason(s.reason() + (lost > 0 ? " (" + lost + " bytes of output dropped)" : "")),
                    Callback.NOOP);
        }
    }

    @Override
    public void onFrame(Frame frame, Callback callback) {
        byte[] bytes = data(frame);
        Machines.Console c = console;
        if (bytes != null && c != null) {
            try {
                c.input(bytes);
            } catch (HostException e) {
                session.close(CloseStatus.SERVER_ERROR, reason(e.getMessage()), Callback.NOOP);
            }
        }
        callback.succeeded();
        if (frame.getOpCode() != OpCode.CLOSE) {
            session.demand();
        }
    }

    /** The bytes a binary frame (or a continuation of one) carries; null for any other frame or none. */
    static byte[] data(Frame frame) {
        byte op = frame.getOpCode();
        if ((op != OpCode.BINARY && op != OpCode.CONTINUATION) || !frame.hasPayload()) {
            return null;
        }
        ByteBuffer payload = frame.getPayload();
        byte[] bytes = new byte[payload.remaining()];
        payload.get(bytes);
        return bytes;
    }

    @Override
    public void onError(Throwable cause, Callback callback) {
        detach();
        callback.succeeded();
    }

    @Override
    public void onClosed(CloseStatus status, Callback callback) {
        detach();
        callback.succeeded();
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
        String cut = JsonOut.oneLine(line);
        if (cut.getBytes(StandardCharsets.UTF_8).length <= MAX_REASON) {
            return cut;
        }
        while (cut.getBytes(StandardCharsets.UTF_8).length > MAX_REASON - 3) {
            cut = cut.substring(0, cut.length() - 1);
        }
        return cut + "...";
    }

    private void send(ByteBuffer bytes, Runnable done) {
        CoreSession s = session;
        if (s == null || !s.isOutputOpen()) {
            done.run();
            return;
        }
        s.sendFrame(new Frame(OpCode.BINARY, bytes), Callback.from(done, t -> done.run()), false);
    }

    /** The VM's output into frames, never waiting. */
    private final class FrameSink extends OutputStream {
        @Override
        public void write(int b) {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) {
            frames.offer(b, off, len);
        }
    }
}
