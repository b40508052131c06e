package hg.kvm;

/** An access to guest-physical memory that falls outside every mapped region. */
public final class GuestMemoryException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public GuestMemoryException(String message) {
        super(message);
    }
}
