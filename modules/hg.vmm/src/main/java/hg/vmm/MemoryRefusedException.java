package hg.vmm;

/** A VM's guest memory does not fit in what the host can give running VMs; the message names the numbers. */
public final class MemoryRefusedException extends VmException {
    private static final long serialVersionUID = 1L;

    private final long asked;
    private final long promised;
    private final long limit;

    MemoryRefusedException(String message, long asked, long promised, long limit) {
        super(message);
        this.asked = asked;
        this.promised = promised;
        this.limit = limit;
    }

    /** The new VM's guest memory, in bytes. */
    public long asked() {
        return asked;
    }

    /** The guest memory already promised to running VMs, in bytes. */
    public long promised() {
        return promised;
    }

    /** What running VMs may be promised together, in bytes. */
    public long limit() {
        return limit;
    }
}
