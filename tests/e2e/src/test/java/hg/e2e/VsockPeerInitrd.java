package hg.e2e;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A copy of the boot image's initramfs with {@code /usr/bin/vsock-peer} appended: the test's own host
 * program for the far end of a VM's vsock socket (vsock-peer.c among the test resources), built static
 * here with gcc.
 */
final class VsockPeerInitrd {
    static final String PEER = "/usr/bin/vsock-peer";

    private VsockPeerInitrd() {}

    static Path write(BootImage image, Path out) {
        Path stage = null;
        try {
            stage = Files.createTempDirectory("hg-e2e-vsock-peer-");
            Path source = stage.resolve("vsock-peer.c");
            try (InputStream in = VsockPeerInitrd.class.getResourceAsStream("/vsock-peer.c")) {
                if (in == null) {
                    throw new IllegalStateException("vsock-peer.c is not among the test resources");
                }
                Files.copy(in, source);
            }
            Path root = stage.resolve("root");
            Files.createDirectories(root.resolve("usr/bin"));
            Process gcc = new ProcessBuilder("gcc", "-static", "-O2", "-o", root.resolve("usr/bin/vsock-peer").toString(),
                    source.toString()).inheritIO().start();
            if (!gcc.waitFor(120, TimeUnit.SECONDS) || gcc.exitValue() != 0) {
                gcc.destroyForcibly();
                throw new IllegalStateException("gcc could not build vsock-peer.c");
            }
            return InitrdAppend.write(image, root, List.of("usr", "usr/bin", "usr/bin/vsock-peer"), out);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot make the initramfs with vsock-peer " + out, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted making the initramfs with vsock-peer", e);
        } finally {
            if (stage != null) {
                try (Stream<Path> s = Files.walk(stage)) {
                    s.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
                } catch (IOException ignored) {
                    // a temporary directory
                }
            }
        }
    }
}
