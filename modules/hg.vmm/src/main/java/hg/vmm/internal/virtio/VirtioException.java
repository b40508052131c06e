package hg.vmm.internal.virtio;

/**
 * The driver broke the virtio rules (a bad descriptor chain, a ring outside guest memory).
 * Caught by the transport, which marks the device as needing a reset.
 */
public final class VirtioException extends Exception {
    private static final long serialVersionUID = 1L;

    public VirtioException(String message) {
        super(message);
    }
}
