package hg.kvm;

/** An access to guest-physical memory that falls outside every mapped region. */
public final class GuestMemoryException extends RuntimeException {
    public GuestMemoryException(String message) {
        super(message);
    }
}
