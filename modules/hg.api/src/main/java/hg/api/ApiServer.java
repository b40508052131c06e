package hg.api;

import hg.api.internal.ApiHandler;
import hg.api.internal.Endpoints;
import hg.api.internal.JsonErrors;
import hg.api.internal.SocketFile;
import hg.host.Catalog;
import hg.host.Machines;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.NetworkConnectionLimit;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.unixdomain.server.UnixDomainServerConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.eclipse.jetty.websocket.core.WebSocketComponents;

/**
 * The daemon's API: HTTP/1.1 with JSON bodies on a Unix-domain socket only its user may open (mode 0600).
 * It calls the {@link Machines} and {@link Catalog} it is given and answers with their refusals; give it the
 * host's checked machines ({@code hg.host.CheckedMachines}) so its lines are the shell's. GET /openapi.json
 * describes every endpoint.
 */
public final class ApiServer implements AutoCloseable {
    /** Threads for requests; a request blocks on its VM (a snapshot writes all of its memory). */
    private static final int MAX_THREADS = 32;
    /** Open connections, consoles included; more wait in the socket's backlog. */
    private static final int MAX_CONNECTIONS = 64;
    private static final Duration HTTP_IDLE = Duration.ofSeconds(60);

    private final Server server;
    private final SocketFile socket;
    private final ScheduledExecutorService ticker;

    private ApiServer(Server server, SocketFile socket, ScheduledExecutorService ticker) {
        this.server = server;
        this.socket = socket;
        this.ticker = ticker;
    }

    /**
     * Listens on {@code socket} and serves until {@link #close}. Refuses, with one line, a path where a live
     * daemon answers or that is not a socket; a socket file a dead daemon left is replaced.
     */
    public static ApiServer start(Path socket, Machines machines, Catalog catalog) throws IOException {
        ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().daemon().name("hg-api-console-watch").factory());
        WebSocketComponents websockets = new WebSocketComponents();
        Endpoints endpoints = new Endpoints(machines, catalog, ticker, websockets);
        QueuedThreadPool pool = new QueuedThreadPool(MAX_THREADS, 2);
        pool.setName("hg-api");
        pool.setDaemon(true);
        Server server = new Server(pool);
        HttpConnectionFactory http = new HttpConnectionFactory();
        http.getHttpConfiguration().setSendServerVersion(false);
        http.getHttpConfiguration().setRequestHeaderSize(8 * 1024);
        UnixDomainServerConnector connector = new UnixDomainServerConnector(server, 1, 1, http);
        connector.setIdleTimeout(HTTP_IDLE.toMillis());
        server.addConnector(connector);
        server.addBean(new NetworkConnectionLimit(MAX_CONNECTIONS, server));
        server.addBean(websockets);
        server.setHandler(new ApiHandler(endpoints.router()));
        server.setErrorHandler(new JsonErrors());
        try {
            SocketFile file = SocketFile.bind(socket, path -> {
                connector.setUnixDomainPath(path);
                try {
                    server.start();
                } catch (IOException e) {
                    throw e;
                } catch (Exception e) {
                    throw new IOException(e.getMessage(), e);
                }
            });
            return new ApiServer(server, file, ticker);
        } catch (IOException | RuntimeException e) {
            stop(server);
            ticker.shutdownNow();
            throw new IOException("the API cannot listen on " + socket + ": " + e.getMessage(), e);
        }
    }

    /** The socket it listens on. */
    public Path socket() {
        return socket.path();
    }

    /** Stops serving: consoles are detached (their VMs run on), the socket file is removed; the VMs stay. */
    @Override
    public void close() {
        stop(server);
        ticker.shutdownNow();
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
