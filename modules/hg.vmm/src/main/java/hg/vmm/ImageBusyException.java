package hg.vmm;

/** The disk image is attached elsewhere (in this VMM or another process) in a conflicting mode. */
public final class ImageBusyException extends VmException {
    public ImageBusyException(String message) {
        super(message);
    }
}
