package hg.vmm.internal.virtio.net;

import hg.kvm.net.Nft;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Loads {@link SpoofFilter}'s ruleset at most once per network namespace this process makes
 * TAPs in: at start-up when the VMM sets up the host network, else before its first TAP. A
 * failure is not retried: once the VMM is confined it could not run nft anyway, and one line
 * saying the guests are unfiltered is enough.
 */
public final class SpoofFilterLoad {
    private SpoofFilterLoad() {}

    private static final Map<String, String> DONE = new HashMap<>();

    /**
     * Loads the ruleset into the calling thread's network namespace unless this process already
     * did (or tried). Returns the line that says what came of it, or empty when it was done before.
     */
    public static synchronized Optional<String> ensure() {
        String ns = namespace();
        if (DONE.containsKey(ns)) {
            return Optional.empty();
        }
        String line = describe(Nft.load(SpoofFilter::write));
        DONE.put(ns, line);
        return Optional.of(line);
    }

    /**
     * Loads the ruleset into the calling thread's namespace now, whatever was done before: for
     * tests, whose namespaces come and go and may reuse a number this process saw already.
     */
    static synchronized String loadNow() {
        String line = describe(Nft.load(SpoofFilter::write));
        DONE.put(namespace(), line);
        return line;
    }

    /** Whether {@code line} (from {@link #ensure}) says the guests are filtered. */
    public static boolean filtered(String line) {
        return !line.startsWith("warning:");
    }

    static String describe(Nft.Outcome outcome) {
        String unfiltered = ": guests are not filtered and can send with each other's or the gateway's MAC or IPv4 address";
        return switch (outcome) {
            case Nft.Outcome.Loaded l -> "network: guests may send only from their own MAC and IPv4 address (nftables table bridge "
                    + SpoofFilter.TABLE + ", " + GuestNetConfig.MAX_ID + " slots, loaded in " + l.took().toMillis() + " ms)";
            case Nft.Outcome.Missing m -> "warning: network: nft (nftables) is not installed" + unfiltered;
            case Nft.Outcome.Failed f -> "warning: network: the guest filter was not loaded (" + f.why() + ")" + unfiltered;
        };
    }

    /** The calling thread's network namespace, e.g. {@code net:[4026531840]}. */
    private static String namespace() {
        try {
            return Files.readSymbolicLink(Path.of("/proc/thread-self/ns/net")).toString();
        } catch (IOException | UnsupportedOperationException e) {
            return "unknown";
        }
    }
}
