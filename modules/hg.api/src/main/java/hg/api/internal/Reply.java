package hg.api.internal;

/** What an endpoint answers. */
public sealed interface Reply {
    /** A JSON body; {@code location} (or null) is the Location header of a 201. */
    record Json(int status, byte[] body, String location) implements Reply {
        public Json(int status, byte[] body) {
            this(status, body, null);
        }
    }

    /** Any other body, as is. */
    record Body(String contentType, byte[] body) implements Reply {}

    /** 204: done, nothing to tell. */
    record NoContent() implements Reply {}

    /** The endpoint answered by itself: a WebSocket upgrade, or a body streamed as it came. */
    record Answered() implements Reply {}
}
