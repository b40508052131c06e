package hg.e2e;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPOutputStream;

/** A copy of the boot image's initramfs with files of a staging tree appended as a second archive. */
final class InitrdAppend {
    private InitrdAppend() {}

    /**
     * Writes {@code out}: the image's initramfs, then {@code files} (paths relative to {@code root}, parents
     * first) as a gzipped newc archive owned by root, which the kernel unpacks over the first.
     */
    static Path write(BootImage image, Path root, List<String> files, Path out) throws IOException, InterruptedException {
        Path archive = Files.createTempFile("hg-e2e-", ".cpio");
        try {
            Process cpio = new ProcessBuilder("cpio", "-o", "-H", "newc", "-R", "0:0", "--quiet")
                    .directory(root.toFile())
                    .redirectOutput(archive.toFile())
                    .redirectError(ProcessBuilder.Redirect.INHERIT)
                    .start();
            try (OutputStream in = cpio.getOutputStream()) {
                in.write((String.join("\n", files) + "\n").getBytes(StandardCharsets.UTF_8));
            }
            if (!cpio.waitFor(60, TimeUnit.SECONDS) || cpio.exitValue() != 0) {
                cpio.destroyForcibly();
                throw new IllegalStateException("cpio failed making an archive for the nest's initramfs");
            }
            // A second gzip member: the kernel unpacks each compressed archive in turn.
            Files.copy(image.dir().resolve("initramfs.img"), out, StandardCopyOption.REPLACE_EXISTING);
            try (OutputStream o = new GZIPOutputStream(Files.newOutputStream(out, StandardOpenOption.APPEND))) {
                Files.copy(archive, o);
            }
            return out;
        } finally {
            Files.deleteIfExists(archive);
        }
    }
}
