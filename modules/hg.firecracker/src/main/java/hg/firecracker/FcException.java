package hg.firecracker;

/**
 * A request Firecracker's API refuses: answered 400 with {@code {"fault_message": line}}. The lines of the
 * refusals clients test for are Firecracker's own words.
 */
final class FcException extends Exception {
    private static final long serialVersionUID = 1L;

    FcException(String faultMessage) {
        super(faultMessage, null, false, false);
    }

    static FcException notAfterStart() {
        return new FcException("The requested operation is not supported after starting the microVM.");
    }

    static FcException notBeforeStart() {
        return new FcException("The requested operation is not supported before starting the microVM.");
    }

    /** A resource or value of Firecracker's that hyper-gen does not have; {@code what} says which and why. */
    static FcException notSupported(String what) {
        return new FcException("The requested operation is not supported: " + what);
    }
}
