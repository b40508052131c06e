package hg.imagetools.internal;

import hg.imagetools.ImageToolsException;
import hg.imagetools.Limits;

/**
 * What one input may still unpack: bytes read out of its archive streams and archive entries, both
 * summed over the whole input (all layers of a container image, the data.tar inside a .deb).
 */
public final class Budget {
    private final Limits limits;
    private long unpacked;
    private long entries;

    public Budget(Limits limits) { this.limits = limits; }

    public Limits limits() { return limits; }

    /** Counts {@code n} more bytes read out of an archive stream of {@code what}. */
    void unpacked(long n, String what) {
        unpacked += n;
        if (unpacked > limits.maxUnpackedBytes())
            throw new ImageToolsException.OverLimit(what + ": unpacks to more than " + Limits.size(limits.maxUnpackedBytes())
                    + " (the cap on unpacked bytes, --max-unpacked)");
    }

    /** Counts one more archive entry of {@code what}. */
    void entry(String what) {
        if (++entries > limits.maxEntries())
            throw new ImageToolsException.OverLimit(what + ": more than " + limits.maxEntries() + " entries (the cap on entries, --max-entries)");
    }
}
