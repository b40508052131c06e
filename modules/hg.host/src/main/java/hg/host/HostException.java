package hg.host;

/**
 * A wrong input or a refused request, told to the user as one line: what was wrong and what would
 * work. The shell prints the message and goes on; it never shows a stack trace for these.
 */
public final class HostException extends Exception {
    private static final long serialVersionUID = 1L;

    public HostException(String message) {
        super(message, null, false, false);
    }

    public HostException(String message, Throwable cause) {
        super(message, cause, false, false);
    }
}
