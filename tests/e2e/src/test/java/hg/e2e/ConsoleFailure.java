package hg.e2e;

/**
 * A failed step and the console text that ended it. {@link RigRetry} gives that text to
 * {@link RigSignature#classify} to tell the rig's faults from the product's; any other failure is
 * never looked at, so it cannot be retried by accident.
 */
class ConsoleFailure extends AssertionError {
    private static final long serialVersionUID = 1L;

    /** What the console showed: the line that ended the step, or the console's output. */
    final String seen;

    ConsoleFailure(String message, String seen) {
        super(message);
        this.seen = seen;
    }
}
