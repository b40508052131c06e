package hg.shell;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/** The command line that starts the real hyper-gen main in a new JVM, on the module path this test runs with. */
final class Launch {
    private Launch() {}

    /** The runtime's libraries: JLine for the terminal, and the API's Jetty, slf4j and Jackson. */
    private static final List<String> LIBRARIES = List.of("jline", "jetty", "slf4j", "jackson");

    static String modulePath() {
        String mp = System.getProperty("jdk.module.path", "");
        String cp = System.getProperty("java.class.path", "");
        // The main classes: the module's own output directory (tests are patched in, never launched).
        return Arrays.stream((mp + File.pathSeparator + cp).split(File.pathSeparator))
                .filter(s -> !s.isBlank())
                .filter(s -> !s.endsWith("test-classes"))
                .filter(s -> Files.exists(Path.of(s)))
                .filter(s -> s.endsWith("classes") || s.contains("hg.")
                        || LIBRARIES.stream().anyMatch(s::contains))
                .distinct()
                .collect(Collectors.joining(File.pathSeparator));
    }

    static List<String> command(String... args) {
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=hg.kvm,hg.ninep,org.jline.terminal.ffm,org.jline.nativ",
                "-p", modulePath(), "-m", "hg.shell/hg.shell.Main"));
        cmd.addAll(List.of(args));
        return cmd;
    }
}
