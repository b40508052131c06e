package hg.boot;

/**
 * Why a kernel, an initrd, a command line or a guest layout was refused. Each subtype names
 * one kind of failure; the message names the offending value. Nothing has been written to
 * guest memory when a loader refuses its input.
 */
public abstract sealed class BootException extends Exception
        permits InvalidKernelException, KernelPlacementException, CmdlineException, InitrdException,
                GuestLayoutException {
    private static final long serialVersionUID = 1L;


    BootException(String message) {
        super(message);
    }

    BootException(String message, Throwable cause) {
        super(message, cause);
    }
}
