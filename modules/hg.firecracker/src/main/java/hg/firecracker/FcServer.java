package hg.firecracker;

import hg.api.internal.SocketFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.NetworkConnectionLimit;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.unixdomain.server.UnixDomainServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/** Firecracker's API socket: HTTP/1.1 on a Unix socket (mode 0600) answering through {@link FcHandler}. */
final class FcServer implements AutoCloseable {
    /** A handful: requests are served one at a time by the microVM anyway. */
    private static final int MAX_THREADS = 8;
    private static final int MAX_CONNECTIONS = 16;

    private final Server server;
    private final SocketFile socket;

    private FcServer(Server server, SocketFile socket) {
        this.server = server;
        this.socket = socket;
    }

    static FcServer start(Path path, Microvm vm) throws IOException {
        QueuedThreadPool pool = new QueuedThreadPool(MAX_THREADS, 1);
        pool.setName("fc_api");
        pool.setDaemon(true);
        Server server = new Server(pool);
        HttpConnectionFactory http = new HttpConnectionFactory();
        http.getHttpConfiguration().setSendServerVersion(false);
        http.getHttpConfiguration().setRequestHeaderSize(8 * 1024);
        UnixDomainServerConnector connector = new UnixDomainServerConnector(server, 1, 1, http);
        connector.setIdleTimeout(60_000);
        server.addConnector(connector);
        server.addBean(new NetworkConnectionLimit(MAX_CONNECTIONS, server));
        server.setHandler(new FcHandler(new Endpoints(vm).router()));
        server.setErrorHandler((Request.Handler) (request, response, callback) -> {
            // What Jetty refuses itself (a malformed request line, headers too long), in Firecracker's body.
            Object message = request.getAttribute(ErrorHandler.ERROR_MESSAGE);
            byte[] body = FcHandler.faultBody(message != null ? message.toString() : "HTTP status " + response.getStatus());
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
            response.write(true, ByteBuffer.wrap(body), callback);
            return true;
        });
        try {
            SocketFile file = SocketFile.bind(path, p -> {
                connector.setUnixDomainPath(p);
                try {
                    server.start();
                } catch (IOException e) {
                    throw e;
                } catch (Exception e) {
                    throw new IOException(e.getMessage(), e);
                }
            });
            return new FcServer(server, file);
        } catch (IOException | RuntimeException e) {
            stop(server);
            throw new IOException("Failed to open the API socket at: " + path + ": " + e.getMessage(), e);
        }
    }

    Path socket() {
        return socket.path();
    }

    @Override
    public void close() {
        stop(server);
        socket.remove();
    }

    private static void stop(Server server) {
        try {
            server.stop();
        } catch (Exception e) {
            // stopping what may never have started: nothing left to undo
        }
    }
}
