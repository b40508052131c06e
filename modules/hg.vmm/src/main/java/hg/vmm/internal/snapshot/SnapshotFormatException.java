package hg.vmm.internal.snapshot;

import java.io.Serial;

/** A snapshot that cannot be used: damaged, truncated, of another format version, or with a field out of range. */
public final class SnapshotFormatException extends Exception {
    @Serial
    private static final long serialVersionUID = 1L;

    public SnapshotFormatException(String message) {
        super(message);
    }
}
