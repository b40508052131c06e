package hg.api.internal;

import hg.host.HostException;
import hg.host.HostException.Kind;
import hg.host.Machines;
import hg.host.Machines.State;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.websocket.core.CloseStatus;
import org.eclipse.jetty.websocket.core.CoreSession;
import org.eclipse.jetty.websocket.core.Frame;
import org.eclipse.jetty.websocket.core.FrameHandler;
import org.eclipse.jetty.websocket.core.OpCode;

/**
 * A VM's console through the daemon's WebSocket: output frames go to the sink, keystrokes go out as frames.
 * It is running while the stream is open; the daemon's close tells why the VM stopped.
 */
public final class ClientConsole implements FrameHandler, Machines.Console {
    private static final long SEND_SECONDS = 10;

    private final int vmId;
    /**
     * The screen, written on the thread that read the frame: no hand-off on the way of a keystroke's echo. A
     * slow screen holds back the next read, so the daemon's bound on what it keeps for this client applies.
     */
    private final OutputStream sink;
    /** Set once detached: output that comes after goes nowhere, as with a console of the VMM's own process. */
    private boolean detached;
    private final CountDownLatch ended = new CountDownLatch(1);
    private volatile CoreSession session;
    private volatile State.Stopped stopped;

    public ClientConsole(int vmId, OutputStream sink) {
        this.vmId = vmId;
        this.sink = sink;
    }

    @Override
    public void onOpen(CoreSession session, Callback callback) {
        this.session = session;
        callback.succeeded();
        session.demand();
    }

    @Override
    public void onFrame(Frame frame, Callback callback) {
        byte[] bytes = ConsoleSocket.data(frame);
        if (bytes != null) {
            show(bytes);
        }
        callback.succeeded();
        if (frame.getOpCode() != OpCode.CLOSE) {
            session.demand();
        }
    }

    private synchronized void show(byte[] bytes) {
        if (!detached) {
            try {
                sink.write(bytes);
            } catch (IOException e) {
                // the screen is gone: the stream is read on until the console is closed
            }
        }
    }

    @Override
    public void onError(Throwable cause, Callback callback) {
        // An end of the connection without a close frame (the daemon stopped) has no message of its own.
        end("the console stream ended (" + (cause.getMessage() != null ? cause.getMessage()
                : "the daemon closed the connection") + ")");
        callback.succeeded();
    }

    @Override
    public void onClosed(CloseStatus status, Callback callback) {
        String reason = status.getReason();
        end(status.getCode() == CloseStatus.NORMAL && reason != null && !reason.isEmpty() ? reason
                : "the console stream ended (" + status.getCode() + (reason == null || reason.isEmpty() ? "" : ": " + reason) + ")");
        callback.succeeded();
    }

    private void end(String reason) {
        if (stopped == null) {
            stopped = new State.Stopped(reason);
        }
        ended.countDown();
    }

    @Override
    public void input(byte[] bytes) throws HostException {
        CoreSession s = session;
        State.Stopped st = stopped;
        if (s == null || st != null) {
            throw new HostException(Kind.CONFLICT, "the console of vm " + vmId + " is closed"
                    + (st != null ? ": " + st.reason() : ""));
        }
        CompletableFuture<Void> sent = new CompletableFuture<>();
        s.sendFrame(new Frame(OpCode.BINARY, ByteBuffer.wrap(bytes.clone())),
                Callback.from(() -> sent.complete(null), sent::completeExceptionally), false);
        try {
            sent.get(SEND_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            throw new HostException(Kind.FAILED, "keystrokes to vm " + vmId + " were not sent: "
                    + (e.getCause() != null ? e.getCause().getMessage() : "the daemon did not take them in time"));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HostException(Kind.FAILED, "interrupted while sending keystrokes to vm " + vmId);
        }
    }

    @Override
    public State state() {
        State.Stopped s = stopped;
        return s != null ? s : new State.Running();
    }

    /** Detaches: the VM runs on in the daemon; output that arrived before is in the sink. */
    @Override
    public void close() {
        CoreSession s = session;
        if (s != null && s.isOutputOpen()) {
            s.close(CloseStatus.NORMAL, "detached", Callback.NOOP);
        }
        try {
            // Never opened (the connect failed): nothing to wait for.
            if (s != null && !ended.await(2, TimeUnit.SECONDS)) {
                s.abort();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (this) {
            detached = true;
        }
    }
}
