package hg.vmm;

/** The disk image is attached elsewhere (in this VMM or another process) in a conflicting mode. */
public final class ImageBusyException extends VmException {
    private static final long serialVersionUID = 1L;

    private final boolean writerHolds;

    /** @param writerHolds whether the holder is known to write it (a read-only attach would not conflict otherwise) */
    public ImageBusyException(String message, boolean writerHolds) {
        super(message);
        this.writerHolds = writerHolds;
    }

    public boolean writerHolds() {
        return writerHolds;
    }
}
