package hg.boot;

/** The kernel file is not a well-formed kernel of its format (truncated, bad magic, wrong class or machine, unsupported boot protocol, bad PVH note). */
public final class InvalidKernelException extends BootException {
    private static final long serialVersionUID = 1L;

    public InvalidKernelException(String message) {
        super(message);
    }

    public InvalidKernelException(String message, Throwable cause) {
        super(message, cause);
    }
}
