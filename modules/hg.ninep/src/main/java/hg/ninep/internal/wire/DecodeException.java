package hg.ninep.internal.wire;

/**
 * A message that does not parse: cut short, a string running past its end, a NUL in a string,
 * too many walk names. Carries the errno the reply gives (EPROTO for framing, else the field's).
 */
public final class DecodeException extends Exception {
    private static final long serialVersionUID = 1L;

    private final int errno;

    public DecodeException(int errno, String message) {
        super(message, null, false, false);
        this.errno = errno;
    }

    public int errno() {
        return errno;
    }
}
