package hg.firecracker;

import hg.api.internal.UnixServer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.handler.ErrorHandler;

/** Firecracker's API socket: HTTP/1.1 on a Unix socket (mode 0600) answering through {@link FcHandler}. */
final class FcServer implements AutoCloseable {
    /** A handful: the microVM serves requests one at a time anyway. */
    private static final UnixServer.Limits LIMITS = new UnixServer.Limits("fc_api", 8, 16, Duration.ofSeconds(60));

    private final UnixServer server;

    private FcServer(UnixServer server) {
        this.server = server;
    }

    static FcServer start(Path path, Microvm vm) throws IOException {
        Request.Handler errors = (request, response, callback) -> {
            // What Jetty refuses itself (a malformed request line, headers too long), in Firecracker's body.
            Object message = request.getAttribute(ErrorHandler.ERROR_MESSAGE);
            byte[] body = FcHandler.faultBody(message != null ? message.toString() : "HTTP status " + response.getStatus());
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
            response.write(true, ByteBuffer.wrap(body), callback);
            return true;
        };
        try {
            return new FcServer(UnixServer.start(path, LIMITS, new FcHandler(new Endpoints(vm).router()), errors));
        } catch (IOException e) {
            throw new IOException("Failed to open the API socket at: " + path + ": " + e.getMessage(), e);
        }
    }

    Path socket() {
        return server.socket();
    }

    @Override
    public void close() {
        server.close();
    }
}
