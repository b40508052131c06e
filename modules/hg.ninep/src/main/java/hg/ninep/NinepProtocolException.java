package hg.ninep;

/**
 * A request that cannot be answered at all: too short to hold a tag, or no room for even an
 * Rlerror. The transport is broken; a virtio device marks itself as needing a reset.
 */
public final class NinepProtocolException extends Exception {
    private static final long serialVersionUID = 1L;

    public NinepProtocolException(String message) {
        super(message);
    }
}
