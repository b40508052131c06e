package hg.vmm;

/** A VM could not be created or operated; the message names the problem. */
public class VmException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public VmException(String message) {
        super(message);
    }

    public VmException(String message, Throwable cause) {
        super(message, cause);
    }
}
