package hg.vmm.internal.snapshot;

import java.util.function.Supplier;

/** Builds a record from decoded fields, turning the record's own refusal into a format error. */
final class Records {
    private Records() {
    }

    static <T> T make(String what, Supplier<T> constructor) throws SnapshotFormatException {
        try {
            return constructor.get();
        } catch (IllegalArgumentException | NullPointerException e) {
            throw new SnapshotFormatException(what + ": " + e.getMessage());
        }
    }
}
