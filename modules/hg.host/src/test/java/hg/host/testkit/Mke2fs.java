package hg.host.testkit;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Makes real ext2/3/4 images with e2fsprogs' mke2fs, for the catalog tests. */
public final class Mke2fs {
    private Mke2fs() {}

    public static Path make(Path file, String type, String label, String size) throws IOException, InterruptedException {
        assumeTrue(Files.isExecutable(Path.of("/sbin/mke2fs")) || Files.isExecutable(Path.of("/usr/sbin/mke2fs")),
                "mke2fs (e2fsprogs) is not installed");
        String exe = Files.isExecutable(Path.of("/sbin/mke2fs")) ? "/sbin/mke2fs" : "/usr/sbin/mke2fs";
        List<String> cmd = new ArrayList<>(List.of(exe, "-q", "-t", type, "-F"));
        if (label != null) {
            cmd.addAll(List.of("-L", label));
        }
        cmd.addAll(List.of(file.toString(), size));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IOException("mke2fs failed: " + out);
        }
        return file;
    }
}
