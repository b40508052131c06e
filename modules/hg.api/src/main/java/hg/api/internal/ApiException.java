package hg.api.internal;

/** A request the API refuses before it reaches the host's rules: the status and the one line of its body. */
public final class ApiException extends Exception {
    private static final long serialVersionUID = 1L;

    private final int status;

    public ApiException(int status, String line) {
        super(JsonOut.oneLine(line), null, false, false);
        this.status = status;
    }

    public static ApiException badRequest(String line) {
        return new ApiException(400, line);
    }

    public int status() {
        return status;
    }
}
