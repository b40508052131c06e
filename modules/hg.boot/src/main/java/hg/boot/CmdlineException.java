package hg.boot;

/** The kernel command line is too long for the kernel or contains a NUL byte. */
public final class CmdlineException extends BootException {
    private static final long serialVersionUID = 1L;

    public CmdlineException(String message) {
        super(message);
    }

    public CmdlineException(String message, Throwable cause) {
        super(message, cause);
    }
}
