package hg.api.internal;

import hg.host.HostException;
import java.io.IOException;
import java.io.InputStream;
import java.util.Locale;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/** One request as an endpoint sees it: the VM id of its path, its body read within bounds, and the raw exchange. */
public final class Call {
    private final Request request;
    private final Response response;
    private final Callback callback;
    private final String id;

    public Call(Request request, Response response, Callback callback, String id) {
        this.request = request;
        this.response = response;
        this.callback = callback;
        this.id = id;
    }

    public Request request() {
        return request;
    }

    public Response response() {
        return response;
    }

    public Callback callback() {
        return callback;
    }

    /** The {id} segment of the path as it came, or null for a path without one. */
    public String pathId() {
        return id;
    }

    /** The {id} of the path as a VM id; a path with anything else there names no VM. */
    public int vmId() throws HostException {
        if (id == null || !id.matches("[1-9][0-9]{0,8}")) {
            throw new HostException(HostException.Kind.NOT_FOUND, "no vm with id '" + id + "': vm ids are whole numbers "
                    + "from 1 (GET /vms lists them)");
        }
        return Integer.parseInt(id);
    }

    /**
     * The body: refused with 413 when it is longer than {@link JsonIn#MAX_REQUEST} (by its Content-Length before
     * reading any, or once the cap is passed), with 415 when it is not JSON; empty when there is none.
     */
    public byte[] body() throws ApiException, IOException {
        return body(true);
    }

    /**
     * The body within the same bound, whatever its Content-Type says: for an API whose clients send JSON without
     * naming it (Firecracker's reads the body as JSON whatever the header).
     */
    public byte[] bodyOfAnyType() throws ApiException, IOException {
        return body(false);
    }

    private byte[] body(boolean typed) throws ApiException, IOException {
        long length = request.getLength();
        // HTTP/1.1: a request with neither a length nor chunks has no body.
        if (length == 0 || length < 0 && !request.getHeaders().contains(HttpHeader.TRANSFER_ENCODING)) {
            return new byte[0];
        }
        if (length > JsonIn.MAX_REQUEST) {
            throw tooLarge();
        }
        String type = request.getHeaders().get(HttpHeader.CONTENT_TYPE);
        String mediaType = type == null ? "" : type.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
        if (typed && !mediaType.equals("application/json")) {
            throw new ApiException(415, "the body must be JSON: send it with Content-Type: application/json"
                    + (type == null ? "" : ", not " + type));
        }
        // Not closed: closing a stream read only in part fails the request, and the 413 must still go out.
        InputStream in = Content.Source.asInputStream(request);
        byte[] body = in.readNBytes(JsonIn.MAX_REQUEST + 1);
        if (body.length > JsonIn.MAX_REQUEST) {
            throw tooLarge();
        }
        return body;
    }

    /** The body, or {} when there is none: for requests whose every field has a default. */
    public byte[] bodyOrEmptyObject() throws ApiException, IOException {
        byte[] body = body();
        return body.length == 0 ? new byte[] {'{', '}'} : body;
    }

    private static ApiException tooLarge() {
        return new ApiException(413, "the body is over " + JsonIn.MAX_REQUEST / 1024 + " KiB: no request of this API "
                + "is that long");
    }
}
