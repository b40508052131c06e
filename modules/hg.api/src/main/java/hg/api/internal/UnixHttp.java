package hg.api.internal;

import hg.host.HostException;
import hg.host.HostException.Kind;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.eclipse.jetty.client.BytesRequestContent;
import org.eclipse.jetty.client.ContentResponse;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.Origin;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.client.transport.HttpClientTransportOverHTTP;
import org.eclipse.jetty.io.Transport;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.eclipse.jetty.websocket.core.CoreSession;
import org.eclipse.jetty.websocket.core.FrameHandler;
import org.eclipse.jetty.websocket.core.WebSocketComponents;
import org.eclipse.jetty.websocket.core.client.WebSocketCoreClient;

/**
 * HTTP and WebSocket to the daemon's Unix socket. Every answer of 400 and up comes back as the
 * {@link HostException} the daemon's line and status say; a daemon that is not there is one line naming
 * the socket.
 */
public final class UnixHttp implements AutoCloseable {
    /** Long enough for a snapshot of a large guest or many clones. */
    private static final Duration TIMEOUT = Duration.ofMinutes(10);

    private final Path socket;
    private final HttpClient http;
    private final WebSocketCoreClient websockets;
    /** The daemon run that answered first; see {@link ApiHandler#INSTANCE_HEADER}. */
    private volatile String instance;
    private volatile boolean restarted;

    /** Every request of this client, the WebSocket upgrade included, goes to the socket. */
    private static final class OverUnixSocket extends HttpClientTransportOverHTTP {
        private final Transport unix;

        OverUnixSocket(Path socket) {
            super(1);
            this.unix = new Transport.TCPUnix(socket);
        }

        @Override
        public Origin newOrigin(Request request) {
            request.transport(unix);
            return super.newOrigin(request);
        }
    }

    public UnixHttp(Path socket) throws IOException {
        this.socket = socket;
        QueuedThreadPool pool = new QueuedThreadPool(8, 1);
        pool.setName("hg-api-client");
        pool.setDaemon(true); // a shell that ends without close() must still end
        http = new HttpClient(new OverUnixSocket(socket));
        http.setExecutor(pool);
        http.setFollowRedirects(false);
        websockets = new WebSocketCoreClient(http, new WebSocketComponents());
        try {
            http.start();
            websockets.start();
        } catch (Exception e) {
            close();
            throw new IOException("the API client could not start: " + e.getMessage(), e);
        }
    }

    public Path socket() {
        return socket;
    }

    /** The line for a daemon that does not answer. */
    public String notAnswering(Throwable cause) {
        String why = cause.getMessage() != null ? cause.getMessage() : cause.getClass().getSimpleName();
        return "the hyper-gen daemon at " + socket + " is not answering: " + why;
    }

    /** An answer as it came: status, reason and body. */
    public record Answer(int status, String reason, byte[] body) {}

    /** Sends a request as given and returns whatever status came back; only a daemon that does not answer throws. */
    public Answer raw(String method, String path, byte[] body) throws HostException {
        ContentResponse response = send(method, path, body);
        return new Answer(response.getStatus(), response.getReason(), response.getContent());
    }

    /** Sends a request; {@code body} (JSON) may be null. Returns the answer's body. */
    public byte[] exchange(String method, String path, byte[] body) throws HostException {
        ContentResponse response = send(method, path, body);
        if (response.getStatus() >= 400) {
            throw new HostException(kind(response.getStatus()), errorLine(response));
        }
        return response.getContent();
    }

    private ContentResponse send(String method, String path, byte[] body) throws HostException {
        Request request;
        try {
            request = http.newRequest(URI.create("http://localhost" + path)).method(method)
                    .timeout(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (IllegalArgumentException e) {
            throw new HostException("not a request path: " + path.replaceAll("\\p{Cntrl}", "?"));
        }
        if (body != null) {
            request.body(new BytesRequestContent("application/json", body));
        }
        ContentResponse response;
        try {
            response = request.send();
        } catch (ExecutionException e) {
            throw new HostException(Kind.FAILED, notAnswering(e.getCause() != null ? e.getCause() : e));
        } catch (TimeoutException e) {
            throw new HostException(Kind.FAILED, notAnswering(new IOException("no answer to " + method + " " + path
                    + " within " + TIMEOUT.toMinutes() + " minutes")));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HostException(Kind.FAILED, "interrupted while waiting for the hyper-gen daemon at " + socket);
        }
        String seen = response.getHeaders().get(ApiHandler.INSTANCE_HEADER);
        if (seen != null) {
            if (instance != null && !instance.equals(seen)) {
                restarted = true;
            }
            instance = seen;
        }
        return response;
    }

    /** Whether another run of the daemon answered since the last call: it was killed and started again. */
    public boolean restartedSinceAsked() {
        boolean r = restarted;
        restarted = false;
        return r;
    }

    /** The daemon's line, or the status when the body has none. */
    private static String errorLine(ContentResponse response) {
        String line = null;
        try {
            line = JsonIn.answer(response.getContent(), in -> in.onlyField("error", null, v -> v.string("error")));
        } catch (ApiException e) {
            // not the API's error body: the status is all there is
        }
        return line != null ? line : "the hyper-gen daemon answered HTTP " + response.getStatus() + " "
                + response.getReason();
    }

    /** The kind of refusal a status stands for. */
    public static Kind kind(int status) {
        return switch (status) {
            case 400, 405, 413, 415 -> Kind.INVALID;
            case 404 -> Kind.NOT_FOUND;
            case 409 -> Kind.CONFLICT;
            default -> Kind.FAILED;
        };
    }

    /** Opens a WebSocket to {@code path} with {@code handler} on it; it may sit idle for hours (a console). */
    public CoreSession websocket(String path, FrameHandler handler) throws HostException {
        try {
            CoreSession session = websockets.connect(handler, URI.create("ws://localhost" + path)).get(30, TimeUnit.SECONDS);
            session.setIdleTimeout(Duration.ZERO);
            return session;
        } catch (ExecutionException | IOException e) {
            throw new HostException(Kind.FAILED, notAnswering(e.getCause() != null ? e.getCause() : e));
        } catch (TimeoutException e) {
            throw new HostException(Kind.FAILED, notAnswering(new IOException("no console within 30 seconds")));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HostException(Kind.FAILED, "interrupted while opening a console at " + socket);
        }
    }

    @Override
    public void close() {
        try {
            websockets.stop();
        } catch (Exception e) {
            // closing: nothing to tell
        }
        try {
            http.stop();
        } catch (Exception e) {
            // closing: nothing to tell
        }
    }
}
