package hg.vmm.internal.virtio.net.vhost;

/** Setting up vhost-net failed; the card then falls back to the Java data path. */
public final class VhostException extends Exception {
    private static final long serialVersionUID = 1L;

    public VhostException(String message, Throwable cause) {
        super(message, cause);
    }

    public VhostException(String message) {
        super(message);
    }
}
