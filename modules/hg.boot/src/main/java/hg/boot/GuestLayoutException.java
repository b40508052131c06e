package hg.boot;

/** The guest memory size, vCPU count or memory regions cannot hold the x86 boot layout. */
public final class GuestLayoutException extends BootException {
    private static final long serialVersionUID = 1L;

    public GuestLayoutException(String message) {
        super(message);
    }

    public GuestLayoutException(String message, Throwable cause) {
        super(message, cause);
    }
}
