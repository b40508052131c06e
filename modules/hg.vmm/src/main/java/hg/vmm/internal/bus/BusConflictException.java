package hg.vmm.internal.bus;

/** A device registration whose range overlaps one already on the bus. */
public final class BusConflictException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public BusConflictException(String message) {
        super(message);
    }
}
