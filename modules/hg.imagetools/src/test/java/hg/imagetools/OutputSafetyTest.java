package hg.imagetools;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** An image appears under its name whole or not at all, and never over one a running VM holds. */
class OutputSafetyTest {
    @TempDir Path tmp;

    static final byte[] OLD = "the previous image".getBytes(StandardCharsets.UTF_8);

    /** A file whose bytes stop with an I/O error after 64 KiB, as a failing disk or a vanished source would. */
    static Node.File failingFile() {
        return new Node.File(Trees.meta(0644), new Content() {
            @Override public long size() { return 1 << 20; }
            @Override public InputStream open() {
                return new InputStream() {
                    long given;
                    @Override public int read() throws IOException {
                        if (given++ >= 64 << 10) throw new IOException("the source went away");
                        return 'x';
                    }
                };
            }
        });
    }

    static FsTree treeThatFailsHalfway() {
        FsTree t = new FsTree();
        t.put("etc/motd", new Node.File(Trees.meta(0644), Content.of("hi\n".getBytes(StandardCharsets.UTF_8))));
        t.put("big", failingFile());
        return t;
    }

    /** Only the target itself is in the directory: no temporary file left behind. */
    static void onlyTargetLeft(Path dir, Path target) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(List.of(target), s.toList());
        }
    }

    @Test
    void aFailedImageWriteLeavesTheOldImage() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("out"));
        Path img = dir.resolve("root.img");
        Files.write(img, OLD);
        try (FsTree t = treeThatFailsHalfway()) {
            assertThrows(IOException.class, () -> new Ext4ImageWriter().write(t, img));
        }
        assertArrayEquals(OLD, Files.readAllBytes(img));
        onlyTargetLeft(dir, img);
    }

    @Test
    void aFailedInitramfsWriteLeavesTheOldArchive() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("out"));
        Path out = dir.resolve("initrd.cpio.gz");
        Files.write(out, OLD);
        try (FsTree t = treeThatFailsHalfway()) {
            assertThrows(IOException.class, () -> new Initramfs(OptionalLong.empty()).writeGzip(t, out));
        }
        assertArrayEquals(OLD, Files.readAllBytes(out));
        onlyTargetLeft(dir, out);
    }

    @Test
    void aNewImageAppearsWholeAndKeepsTheOldModeWhenReplacing() throws Exception {
        Path src = Files.createDirectories(tmp.resolve("src"));
        Files.writeString(src.resolve("f"), "f\n");
        Path dir = Files.createDirectories(tmp.resolve("out"));
        Path img = dir.resolve("root.img");
        assertEquals(0, MainTest.run("mkfs", "--from", src.toString(), "--out", img.toString(), "--quiet").exit());
        ImageCheck.e2fsckClean(img);
        Files.setPosixFilePermissions(img, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r-----"));
        assertEquals(0, MainTest.run("mkfs", "--from", src.toString(), "--out", img.toString(), "--quiet").exit());
        assertEquals("rw-r-----", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(img)));
        onlyTargetLeft(dir, img);
    }

    /** A child JVM that locks a file as a VM holds its disk (exclusive for read-write, shared for read-only). */
    static final String LOCK_HOLDER = """
            import java.nio.channels.FileChannel;
            import java.nio.file.Path;
            import java.nio.file.StandardOpenOption;
            public class LockHolder {
                public static void main(String[] a) throws Exception {
                    boolean shared = a[1].equals("shared");
                    try (FileChannel ch = shared ? FileChannel.open(Path.of(a[0]), StandardOpenOption.READ)
                            : FileChannel.open(Path.of(a[0]), StandardOpenOption.READ, StandardOpenOption.WRITE);
                         var lock = ch.lock(0, Long.MAX_VALUE, shared)) {
                        System.out.println("locked");
                        System.out.flush();
                        System.in.read(); // held until the test closes our stdin
                    }
                }
            }
            """;

    @ParameterizedTest
    @ValueSource(strings = {"exclusive", "shared"})
    void anImageARunningVmHoldsIsNotReplaced(String kind) throws Exception {
        Path src = Files.createDirectories(tmp.resolve("src"));
        Files.writeString(src.resolve("f"), "f\n");
        Path dir = Files.createDirectories(tmp.resolve("out"));
        Path img = dir.resolve("root.img");
        Files.write(img, OLD);
        Path holderDir = Files.createDirectories(tmp.resolve("lockholder"));
        Path source = holderDir.resolve("LockHolder.java");
        Files.writeString(source, LOCK_HOLDER);
        String java = ProcessHandle.current().info().command().orElseThrow();
        Process p = new ProcessBuilder(java, source.toString(), img.toString(), kind).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            assertEquals("locked", r.readLine());
            MainTest.refused(MainTest.run("mkfs", "--from", src.toString(), "--out", img.toString()), "in use");
            MainTest.refused(MainTest.run("initramfs", "--from", src.toString(), "--out", img.toString()), "in use");
            assertArrayEquals(OLD, Files.readAllBytes(img));
        } finally {
            p.getOutputStream().close();
            assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        }
        // once the VM is gone the image can be replaced
        assertEquals(0, MainTest.run("mkfs", "--from", src.toString(), "--out", img.toString(), "--quiet").exit());
        ImageCheck.e2fsckClean(img);
        onlyTargetLeft(dir, img);
    }
}
