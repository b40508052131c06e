package hg.api;

import hg.api.internal.ApiHandler;
import hg.api.internal.Endpoints;
import hg.api.internal.JsonErrors;
import hg.api.internal.UnixServer;
import hg.host.Catalog;
import hg.host.Machines;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
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

    private final UnixServer server;
    private final ScheduledExecutorService ticker;

    private ApiServer(UnixServer server, ScheduledExecutorService ticker) {
        this.server = server;
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
        try {
            Endpoints endpoints = new Endpoints(machines, catalog, ticker, websockets);
            return new ApiServer(UnixServer.start(socket, new UnixServer.Limits("hg-api", MAX_THREADS, MAX_CONNECTIONS,
                    HTTP_IDLE), new ApiHandler(endpoints.router()), new JsonErrors(), websockets), ticker);
        } catch (IOException | RuntimeException e) {
            ticker.shutdownNow();
            throw new IOException("the API cannot listen on " + socket + ": " + e.getMessage(), e);
        }
    }

    /** The socket it listens on. */
    public Path socket() {
        return server.socket();
    }

    /** Stops serving: consoles are detached (their VMs run on), the socket file is removed; the VMs stay. */
    @Override
    public void close() {
        server.close();
        ticker.shutdownNow();
    }
}
