package hg.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * hg.api links into a jlink runtime (the boot image's shell will require it): Jetty, slf4j with Jetty's
 * provider, and Jackson are explicit modules. Prints what they add to a runtime of hg.host alone.
 */
class JlinkTest {
    @TempDir
    Path tmp;

    /** The module path this test runs on, less the tests and their libraries. */
    private static String modulePath() {
        String mp = System.getProperty("jdk.module.path", "") + File.pathSeparator + System.getProperty("java.class.path", "");
        return Arrays.stream(mp.split(File.pathSeparator))
                .filter(s -> !s.isBlank() && Files.exists(Path.of(s)))
                .filter(s -> !s.endsWith("test-classes") && !s.endsWith("-tests.jar"))
                .filter(s -> Stream.of("junit", "jqwik", "opentest4j", "apiguardian").noneMatch(s::contains))
                .distinct()
                .collect(Collectors.joining(File.pathSeparator));
    }

    private static String run(List<String> cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertTrue(p.waitFor(180, TimeUnit.SECONDS), "timed out: " + cmd);
        assertEquals(0, p.exitValue(), cmd + ":\n" + out);
        return out;
    }

    private static Path link(Path jlink, String module, Path out) throws IOException, InterruptedException {
        run(List.of(jlink.toString(), "--module-path", modulePath(), "--add-modules", module, "--strip-debug",
                "--no-header-files", "--no-man-pages", "--compress", "zip-6", "--output", out.toString()));
        return out;
    }

    private static long size(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile).mapToLong(f -> f.toFile().length()).sum();
        }
    }

    @Test
    void hgApiLinksWithItsLibraries() throws Exception {
        Path jlink = Path.of(System.getProperty("java.home"), "bin", "jlink");
        assumeTrue(Files.isExecutable(jlink), "this JDK has no jlink");
        Path api = link(jlink, "hg.api", tmp.resolve("api"));
        Path host = link(jlink, "hg.host", tmp.resolve("host"));
        String modules = run(List.of(api.resolve("bin/java").toString(), "--list-modules"));
        for (String m : List.of("hg.api@", "org.eclipse.jetty.server@", "org.eclipse.jetty.unixdomain.server@",
                "org.eclipse.jetty.client@", "org.eclipse.jetty.websocket.core.server@",
                "org.eclipse.jetty.websocket.core.client@", "org.eclipse.jetty.logging@", "org.slf4j@",
                "com.fasterxml.jackson.core@")) {
            assertTrue(modules.contains(m), m + " is linked: " + modules);
        }
        long added = size(api) - size(host);
        String line = String.format("jlink: hg.api adds %.1f MiB to a runtime of hg.host (%.1f MiB -> %.1f MiB)",
                added / 1048576.0, size(host) / 1048576.0, size(api) / 1048576.0);
        System.out.println(line);
        Files.writeString(Path.of("target", "jlink-size.txt"), line + "\n" + modules);
        assertTrue(added < 16L << 20, line);
    }
}
