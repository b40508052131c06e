package hg.host;

/**
 * A wrong input or a refused request, told to the user as one line: what was wrong and what would
 * work. The shell prints the message and goes on; the API answers with the status its {@link Kind} names.
 */
public final class HostException extends Exception {
    private static final long serialVersionUID = 1L;

    /** What went wrong, as a front end that answers with a status needs to know it. */
    public enum Kind {
        /** The request itself is wrong: a bad value, a missing argument, a path where none may be. */
        INVALID,
        /** It names a VM, kernel, image or snapshot that is not there. */
        NOT_FOUND,
        /** Right in itself, but not now: the VM's state, a disk in use, memory promised to other VMs. */
        CONFLICT,
        /** hyper-gen or the host failed to do it. */
        FAILED
    }

    private final Kind kind;

    public HostException(String message) {
        this(Kind.INVALID, message);
    }

    public HostException(Kind kind, String message) {
        super(message, null, false, false);
        this.kind = kind;
    }

    public HostException(String message, Throwable cause) {
        super(message, cause, false, false);
        this.kind = Kind.FAILED;
    }

    public Kind kind() {
        return kind;
    }
}
