package hg.e2e;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;

/**
 * A copy of the boot image's initramfs with test classes appended as a second cpio archive (the
 * kernel unpacks concatenated archives in order), so a test program runs inside the nest without
 * being part of the product: /opt/hg-selftest/ holds the classes and a file "main" naming the class
 * the kvm self-test runs.
 */
final class ExtraInitrd {
    private ExtraInitrd() {}

    /** Writes {@code out}: the image's initramfs plus the package of {@code mainClass} from the test classes. */
    static Path withMain(BootImage image, Class<?> mainClass, Path out) {
        try {
            Path classes = Path.of(mainClass.getProtectionDomain().getCodeSource().getLocation().toURI());
            String pkgDir = mainClass.getPackageName().replace('.', '/');
            Path stage = Files.createTempDirectory("hg-e2e-initrd-");
            try {
                Path root = stage.resolve("opt/hg-selftest");
                Files.createDirectories(root.resolve(pkgDir));
                List<String> files = new ArrayList<>(List.of("opt", "opt/hg-selftest", "opt/hg-selftest/main"));
                Files.writeString(root.resolve("main"), mainClass.getName() + "\n");
                String dirSoFar = "opt/hg-selftest";
                for (String part : pkgDir.split("/")) {
                    dirSoFar += "/" + part;
                    files.add(dirSoFar);
                }
                try (Stream<Path> s = Files.list(classes.resolve(pkgDir))) {
                    for (Path c : s.filter(f -> f.toString().endsWith(".class")).sorted().toList()) {
                        Files.copy(c, root.resolve(pkgDir).resolve(c.getFileName()));
                        files.add("opt/hg-selftest/" + pkgDir + "/" + c.getFileName());
                    }
                }
                InitrdAppend.write(image, stage, files, out);
                return out;
            } finally {
                try (Stream<Path> s = Files.walk(stage)) {
                    s.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot make the extra initramfs " + out, e);
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted making the extra initramfs", e);
        }
    }
}
