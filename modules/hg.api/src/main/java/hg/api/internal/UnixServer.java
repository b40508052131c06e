package hg.api.internal;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.NetworkConnectionLimit;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.unixdomain.server.UnixDomainServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * HTTP/1.1 on a Unix socket as both of hyper-gen's APIs serve it: a bounded pool of daemon threads, a bounded
 * number of connections, 8 KiB of headers, no server version, and the socket file claimed and bound by
 * {@link SocketFile} (mode 0600, moved into place, removed at the end while it is still this server's).
 */
public final class UnixServer implements AutoCloseable {
    /** How a server is made: its threads' name and number, its connections and how long one may idle. */
    public record Limits(String threadName, int maxThreads, int maxConnections, Duration idle) {}

    private final Server server;
    private final SocketFile socket;

    private UnixServer(Server server, SocketFile socket) {
        this.server = server;
        this.socket = socket;
    }

    /**
     * Listens on {@code path} with {@code handler} answering and {@code errors} writing what Jetty refuses itself;
     * {@code beans} (e.g. WebSocket components) start and stop with the server. One line on failure, nothing left.
     */
    public static UnixServer start(Path path, Limits limits, Handler handler, Request.Handler errors, Object... beans)
            throws IOException {
        QueuedThreadPool pool = new QueuedThreadPool(limits.maxThreads(), Math.min(2, limits.maxThreads()));
        pool.setName(limits.threadName());
        pool.setDaemon(true);
        Server server = new Server(pool);
        HttpConnectionFactory http = new HttpConnectionFactory();
        http.getHttpConfiguration().setSendServerVersion(false);
        http.getHttpConfiguration().setRequestHeaderSize(8 * 1024);
        UnixDomainServerConnector connector = new UnixDomainServerConnector(server, 1, 1, http);
        connector.setIdleTimeout(limits.idle().toMillis());
        server.addConnector(connector);
        server.addBean(new NetworkConnectionLimit(limits.maxConnections(), server));
        for (Object bean : beans) {
            server.addBean(bean);
        }
        server.setHandler(handler);
        server.setErrorHandler(errors);
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
            return new UnixServer(server, file);
        } catch (IOException | RuntimeException e) {
            stop(server);
            throw new IOException(e.getMessage(), e);
        }
    }

    public Path socket() {
        return socket.path();
    }

    /** Stops serving and removes the socket file. */
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
