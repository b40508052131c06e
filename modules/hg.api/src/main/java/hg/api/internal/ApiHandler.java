package hg.api.internal;

import hg.host.HostException;
import java.nio.ByteBuffer;
import java.nio.file.InvalidPathException;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * Every request: routed to its endpoint, and every refusal or failure turned into a status with a
 * {"error": line} body. Endpoints block (a snapshot writes gigabytes), so this runs on the server's pool.
 */
public final class ApiHandler extends Handler.Abstract {
    private static final System.Logger LOG = System.getLogger("hg.api");
    /**
     * On every answer: which run of the daemon gave it. A client that sees it change knows the daemon started
     * again, and that the VMs it knew died with the one before.
     */
    public static final String INSTANCE_HEADER = "Hyper-Gen-Daemon";
    private static final java.util.concurrent.atomic.AtomicLong STARTS = new java.util.concurrent.atomic.AtomicLong();
    /** This server's run: the process, its start, and which server of the process (tests start many). */
    private final String instance = ProcessHandle.current().pid() + "-" + System.currentTimeMillis() + "-"
            + STARTS.incrementAndGet();

    private final Router router;

    public ApiHandler(Router router) {
        super(InvocationType.BLOCKING);
        this.router = router;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        String path = Request.getPathInContext(request);
        response.getHeaders().put(INSTANCE_HEADER, instance);
        Reply reply;
        try {
            reply = switch (router.match(request.getMethod(), path)) {
                case Router.Match.Found f -> f.route().action().run(new Call(request, response, callback, f.id()));
                case Router.Match.NoPath n -> error(404, "no such path: " + path + " (GET /openapi.json lists the API)");
                case Router.Match.WrongMethod w -> {
                    response.getHeaders().put(HttpHeader.ALLOW, String.join(", ", w.allow()));
                    yield error(405, path + " takes " + String.join(", ", w.allow()) + ", not " + request.getMethod());
                }
            };
        } catch (HostException e) {
            reply = error(status(e.kind()), e.getMessage());
        } catch (ApiException e) {
            reply = error(e.status(), e.getMessage());
        } catch (InvalidPathException e) {
            reply = error(400, "not a path: " + e.getInput().replace('\0', '?'));
        } catch (Exception e) {
            // A bug: one generic line to the client, the detail where the daemon logs; the daemon runs on.
            LOG.log(System.Logger.Level.WARNING, "hg.api: " + request.getMethod() + " " + path + " failed", e);
            reply = error(500, "the daemon failed on " + request.getMethod() + " " + path + "; it runs on");
        }
        send(reply, response, callback);
        return true;
    }

    public static int status(HostException.Kind kind) {
        return switch (kind) {
            case INVALID -> 400;
            case NOT_FOUND -> 404;
            case CONFLICT -> 409;
            case FAILED -> 500;
        };
    }

    private static Reply error(int status, String line) {
        return new Reply.Json(status, JsonOut.error(line));
    }

    private static void send(Reply reply, Response response, Callback callback) {
        switch (reply) {
            case Reply.Answered a -> {} // the endpoint answered and completes the callback
            case Reply.NoContent n -> {
                response.setStatus(204);
                callback.succeeded();
            }
            case Reply.Json j -> {
                response.setStatus(j.status());
                if (j.location() != null) {
                    response.getHeaders().put(HttpHeader.LOCATION, j.location());
                }
                write(response, callback, "application/json", j.body());
            }
            case Reply.Body b -> {
                response.setStatus(200);
                write(response, callback, b.contentType(), b.body());
            }
        }
    }

    private static void write(Response response, Callback callback, String type, byte[] body) {
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, type);
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
        response.write(true, ByteBuffer.wrap(body), callback);
    }
}
