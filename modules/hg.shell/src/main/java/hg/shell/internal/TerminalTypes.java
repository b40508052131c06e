package hg.shell.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;
import org.jline.utils.InfoCmp;

/**
 * Terminal capabilities where there is no terminfo database and no {@code infocmp} (the boot image):
 * JLine bundles xterm, screen, rxvt, ansi and dumb, but the consoles here are "linux" (the VTs) and
 * "vt102" (busybox init's serial default). Without their capabilities JLine would print a stack trace
 * for the missing infocmp at every start; with them, line editing uses the right key and cursor codes.
 */
public final class TerminalTypes {
    /** Capabilities shipped with the shell. */
    static final List<String> SHIPPED = List.of("linux", "vt100", "vt102", "vt220");
    /** Capabilities JLine ships itself. */
    static final Set<String> JLINE_BUNDLED = Set.of("ansi", "dumb", "dumb-color", "rxvt", "rxvt-basic",
            "rxvt-unicode", "rxvt-unicode-256color", "screen", "screen-256color", "windows", "windows-256color",
            "windows-conemu", "windows-vtp", "xterm", "xterm-256color");

    private TerminalTypes() {}

    /** Makes the shipped capabilities known to JLine (it then never runs infocmp for them). */
    public static void register() {
        for (String name : SHIPPED) {
            InfoCmp.setLoadedInfoCmp(name, () -> caps(name));
        }
    }

    static String caps(String name) {
        try (InputStream in = TerminalTypes.class.getResourceAsStream(name + ".caps")) {
            if (in == null) {
                throw new IllegalStateException("the terminal capabilities " + name + ".caps are missing");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The terminal type to give JLine for {@code term} (the TERM variable), or null to let JLine choose. */
    public static String choose(String term) {
        return choose(term, TerminalTypes::infocmpOnPath);
    }

    static String choose(String term, Predicate<String> infocmpFor) {
        if (term == null || term.isBlank()) {
            return null;
        }
        if (SHIPPED.contains(term) || JLINE_BUNDLED.contains(term) || infocmpFor.test(term)) {
            return term;
        }
        // No capabilities for this name: the nearest family that has them.
        if (term.startsWith("xterm")) {
            return "xterm";
        }
        if (term.startsWith("screen") || term.startsWith("tmux")) {
            return "screen";
        }
        if (term.startsWith("linux")) {
            return "linux";
        }
        if (term.startsWith("vt")) {
            return "vt220";
        }
        return "ansi";
    }

    private static boolean infocmpOnPath(String term) {
        String path = System.getenv("PATH");
        // A confined shell (--confine) runs no programs: the shipped capabilities must do.
        if (path == null || "1".equals(System.getenv(Confine.MARKER))) {
            return false;
        }
        for (String dir : path.split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "infocmp"))) {
                return true;
            }
        }
        return false;
    }
}
