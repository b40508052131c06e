package hg.firecracker;

import hg.api.internal.ApiException;
import hg.api.internal.Call;
import hg.api.internal.JsonOut;
import hg.api.internal.Reply;
import hg.api.internal.Router;
import hg.host.HostException;
import java.nio.ByteBuffer;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * Every request as Firecracker answers it: 204 or 200 on success, and every refusal 400 with
 * {@code {"fault_message": line}} (a wrong path or method, a body that is not the resource's JSON, a refused
 * change). Runs on the server's pool; the {@link Microvm} serves one request at a time.
 */
final class FcHandler extends Handler.Abstract {
    private static final System.Logger LOG = System.getLogger("hg.firecracker");

    private final Router router;

    FcHandler(Router router) {
        super(InvocationType.BLOCKING);
        this.router = router;
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        String path = Request.getPathInContext(request);
        String method = request.getMethod();
        response.getHeaders().put(HttpHeader.SERVER, "Firecracker API");
        Reply reply;
        try {
            if (method.equals("GET") && request.getLength() > 0) {
                throw new FcException("GET request cannot have a body.");
            }
            reply = switch (router.match(method, path)) {
                case Router.Match.Found f -> f.route().action().run(new Call(request, response, callback, f.id()));
                case Router.Match.NoPath n -> throw invalidPath(method, path);
                case Router.Match.WrongMethod w -> throw invalidPath(method, path);
            };
        } catch (FcException e) {
            reply = fault(400, e.getMessage());
        } catch (ApiException e) {
            // The body's JSON: the line says which field and why, in Firecracker's frame.
            reply = fault(400, e.status() == 400
                    ? "An error occurred when deserializing the json body of a request: " + e.getMessage() + "."
                    : e.getMessage());
        } catch (HostException e) {
            reply = fault(400, e.getMessage());
        } catch (Exception e) {
            LOG.log(System.Logger.Level.WARNING, method + " " + path + " failed", e);
            reply = fault(500, "Internal error: " + method + " " + path + " failed; the microVM runs on");
        }
        send(reply, response, callback);
        return true;
    }

    private static FcException invalidPath(String method, String path) {
        return new FcException("Invalid request method and/or path: " + method + " " + path + ".");
    }

    static Reply fault(int status, String line) {
        return new Reply.Json(status, faultBody(line));
    }

    static byte[] faultBody(String line) {
        return JsonOut.bytes(g -> {
            g.writeStartObject();
            g.writeStringField("fault_message", JsonOut.oneLine(line));
            g.writeEndObject();
        });
    }

    private static void send(Reply reply, Response response, Callback callback) {
        switch (reply) {
            case Reply.NoContent n -> {
                response.setStatus(204);
                callback.succeeded();
            }
            case Reply.Json j -> write(response, callback, j.status(), j.body());
            case Reply.Body b -> write(response, callback, 200, b.body());
            case Reply.Answered a -> { }
        }
    }

    private static void write(Response response, Callback callback, int status, byte[] body) {
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        response.getHeaders().put(HttpHeader.CONTENT_LENGTH, body.length);
        response.write(true, ByteBuffer.wrap(body), callback);
    }
}
