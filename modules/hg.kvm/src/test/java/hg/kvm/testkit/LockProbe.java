package hg.kvm.testkit;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Asks a second process whether it can lock a file, as another VMM or tool on the host would:
 * with an ordinary POSIX lock ({@code FileChannel.tryLock}), which conflicts with the VMM's
 * open-file-description locks. Answers "locked" or "refused".
 */
public final class LockProbe {
    private static final String SOURCE = """
            import java.nio.channels.FileChannel;
            import java.nio.file.*;
            public class Probe {
                public static void main(String[] a) throws Exception {
                    boolean shared = a[1].equals("shared");
                    try (FileChannel c = shared ? FileChannel.open(Path.of(a[0]), StandardOpenOption.READ)
                            : FileChannel.open(Path.of(a[0]), StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                        System.out.println(c.tryLock(0, Long.MAX_VALUE, shared) != null ? "locked" : "refused");
                    }
                }
            }
            """;

    private LockProbe() {}

    public static String tryLockFromAnotherProcess(Path dir, Path file, boolean shared) throws IOException, InterruptedException {
        Path source = dir.resolve("Probe.java");
        if (!Files.exists(source)) {
            Files.writeString(source, SOURCE);
        }
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, source.toString(), file.toString(), shared ? "shared" : "exclusive")
                .redirectErrorStream(true).start();
        try {
            String answer = new BufferedReader(new InputStreamReader(p.getInputStream())).readLine();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                throw new AssertionError("the lock probe did not end");
            }
            return answer;
        } finally {
            p.destroyForcibly();
        }
    }
}
