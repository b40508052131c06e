package hg.boot;

/** The kernel is well formed but cannot be placed in this guest's memory (segments overlapping, below 1 MiB, outside RAM, or too large). */
public final class KernelPlacementException extends BootException {
    private static final long serialVersionUID = 1L;

    public KernelPlacementException(String message) {
        super(message);
    }

    public KernelPlacementException(String message, Throwable cause) {
        super(message, cause);
    }
}
