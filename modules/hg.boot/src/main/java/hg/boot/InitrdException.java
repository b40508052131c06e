package hg.boot;

/** The initrd is empty, too large, or does not fit between the kernel and the highest address the kernel accepts. */
public final class InitrdException extends BootException {
    private static final long serialVersionUID = 1L;

    public InitrdException(String message) {
        super(message);
    }

    public InitrdException(String message, Throwable cause) {
        super(message, cause);
    }
}
