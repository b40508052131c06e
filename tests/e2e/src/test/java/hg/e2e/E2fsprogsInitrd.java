package hg.e2e;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;

/**
 * A copy of the boot image's initramfs with this machine's {@code e2fsck} and {@code debugfs} (and
 * the shared libraries they load) appended as a second archive, so a test can check a guest image
 * inside the nest where it was written. The boot image's runtime already brings this machine's
 * glibc and loader, so the binaries run there as they are.
 */
final class E2fsprogsInitrd {
    static final List<String> TOOLS = List.of("e2fsck", "debugfs");
    private static final Pattern LDD_PATH = Pattern.compile("(?m)^\\s*(?:\\S+ => )?(/\\S+) \\(0x");

    private E2fsprogsInitrd() {}

    static Path write(BootImage image, Path out) {
        Path stage = null;
        try {
            stage = Files.createTempDirectory("hg-e2e-e2fsprogs-");
            Set<String> files = new LinkedHashSet<>();
            Set<Path> libs = new LinkedHashSet<>();
            for (String tool : TOOLS) {
                Path bin = Stream.of("/usr/sbin", "/sbin", "/usr/bin").map(d -> Path.of(d, tool))
                        .filter(Files::isExecutable).findFirst()
                        .orElseThrow(() -> new IllegalStateException(tool + " is not installed here (apt-get install e2fsprogs)"));
                add(stage, files, bin, Path.of("/usr/sbin", tool));
                Matcher m = LDD_PATH.matcher(HostCommand.run(java.time.Duration.ofSeconds(30), "ldd", bin.toString()));
                while (m.find()) {
                    libs.add(Path.of(m.group(1)));
                }
            }
            for (Path lib : libs) {
                // The loader and libc are in the image already, for its Java runtime.
                String name = lib.getFileName().toString();
                if (!name.startsWith("ld-linux") && !name.startsWith("libc.so")) {
                    add(stage, files, lib, lib);
                }
            }
            InitrdAppend.write(image, stage.resolve("root"), List.copyOf(files), out);
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot make the initramfs with e2fsprogs " + out, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted making the initramfs with e2fsprogs", e);
        } finally {
            if (stage != null) {
                try (Stream<Path> s = Files.walk(stage)) {
                    s.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
                } catch (IOException ignored) {
                    // A temp dir left behind is harmless.
                }
            }
        }
    }

    /** Copies {@code from} (following links) to {@code at} in the stage, listing it and its parent directories. */
    private static void add(Path stage, Set<String> files, Path from, Path at) throws IOException {
        String rel = at.toString().substring(1);
        Path to = stage.resolve("root").resolve(rel);
        Files.createDirectories(to.getParent());
        Files.copy(from, to, StandardCopyOption.REPLACE_EXISTING);
        List<String> dirs = new ArrayList<>();
        for (Path p = Path.of(rel).getParent(); p != null; p = p.getParent()) {
            dirs.addFirst(p.toString());
        }
        files.addAll(dirs);
        files.add(rel);
    }
}
