package hg.kvm.net;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * nftables' {@code nft}, run once with a whole ruleset on its stdin ({@code nft -f -}): one
 * netlink transaction, so the kernel takes all of it or none. Speaking nftables' netlink
 * protocol from Java would spare the process, but the ruleset is loaded once per VMM start,
 * before the VMM confines itself (after that, exec is refused), so a program is the simpler
 * tool. The process is started from the calling thread and so lives in that thread's network
 * namespace, where the ruleset lands.
 */
public final class Nft {
    private Nft() {}

    /** Where Debian and most distributions install it; no PATH lookup, so nothing else runs under its name. */
    static final List<Path> PLACES = List.of(Path.of("/usr/sbin/nft"), Path.of("/sbin/nft"), Path.of("/usr/bin/nft"));
    static final Duration TIMEOUT = Duration.ofSeconds(120);

    /** What became of a load. */
    public sealed interface Outcome {
        /** The kernel took the ruleset; {@code took} is the program's whole run. */
        record Loaded(Duration took) implements Outcome {}

        /** There is no {@code nft} on this host. */
        record Missing() implements Outcome {}

        /** nft ran and refused, or could not run (a confined process may not exec): its first lines. */
        record Failed(String why) implements Outcome {}
    }

    /** The program, when this host has one. */
    public static Optional<Path> program() {
        return PLACES.stream().filter(Files::isExecutable).findFirst();
    }

    /** Writes a ruleset as nft's input. */
    @FunctionalInterface
    public interface Ruleset {
        void writeTo(Appendable out) throws IOException;
    }

    /** Loads {@code ruleset} with the program found, in the calling thread's network namespace. */
    public static Outcome load(String ruleset) {
        return load(out -> out.append(ruleset));
    }

    /**
     * Loads what {@code ruleset} writes, streamed to the program as it is written: a ruleset of some
     * megabytes never lies whole in the heap, where it would outlive the young generation (arrays that
     * large are allocated in the old one) and stay there as garbage until a full collection.
     */
    public static Outcome load(Ruleset ruleset) {
        return program().map(p -> load(p, ruleset)).orElseGet(Outcome.Missing::new);
    }

    static Outcome load(Path program, Ruleset ruleset) {
        long t0 = System.nanoTime();
        Process p;
        try {
            p = new ProcessBuilder(program.toString(), "-f", "-").redirectErrorStream(true).start();
        } catch (IOException e) {
            return new Outcome.Failed("cannot run " + program + ": " + firstLine(e.getMessage()));
        }
        try (InputStream out = p.getInputStream()) {
            // Its output is read on another thread: a chatty failure must not block our writing.
            Thread.Builder reader = Thread.ofVirtual().name("nft-output");
            byte[][] output = new byte[1][];
            Thread r = reader.start(() -> {
                try {
                    output[0] = out.readNBytes(64 * 1024);
                } catch (IOException e) {
                    output[0] = new byte[0];
                }
            });
            try (Writer in = new BufferedWriter(new OutputStreamWriter(p.getOutputStream(), StandardCharsets.US_ASCII),
                    64 * 1024)) {
                ruleset.writeTo(in);
            } catch (IOException e) {
                // nft stopped reading: it has refused the ruleset, which its output says
            }
            if (!p.waitFor(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                return new Outcome.Failed(program + " did not finish within " + TIMEOUT.toSeconds() + " s");
            }
            r.join();
            Duration took = Duration.ofNanos(System.nanoTime() - t0);
            if (p.exitValue() == 0) {
                return new Outcome.Loaded(took);
            }
            String text = new String(output[0], StandardCharsets.UTF_8).strip();
            return new Outcome.Failed(program + " exited with " + p.exitValue() + (text.isEmpty() ? "" : ": " + firstLines(text)));
        } catch (IOException e) {
            return new Outcome.Failed(program + ": " + firstLine(e.getMessage()));
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            return new Outcome.Failed(program + ": interrupted");
        }
    }

    private static String firstLine(String s) {
        return s == null ? "" : s.lines().findFirst().orElse("");
    }

    /** nft names the error, then quotes the line and marks the spot: the first two say it. */
    private static String firstLines(String s) {
        return String.join(" / ", s.lines().limit(2).map(String::strip).toList());
    }
}
