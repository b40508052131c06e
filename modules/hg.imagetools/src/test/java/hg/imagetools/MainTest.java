package hg.imagetools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MainTest {
    @TempDir Path tmp;

    record Result(int exit, String err) {}

    static Result run(String... args) {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(args, new PrintStream(new ByteArrayOutputStream()), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(code, err.toString(StandardCharsets.UTF_8));
    }

    /** Exit 2, one line names the problem, and no stack trace. */
    static void refused(Result r, String mentions) {
        assertEquals(2, r.exit(), r.err());
        assertEquals(1, r.err().lines().filter(l -> l.startsWith("hg-imagetools: ") && l.contains(mentions)).count(), r.err());
        assertFalse(r.err().contains("\tat ") || r.err().contains("Exception"), r.err());
    }

    @Test
    void mkfsFromADirectory() throws Exception {
        Path src = tmp.resolve("src");
        Files.createDirectories(src.resolve("etc"));
        Files.writeString(src.resolve("etc/motd"), "hi\n");
        // Times in the past: an image's own times follow the tree's newest, or the clock when that is later,
        // and two runs a second apart would differ in them.
        java.nio.file.attribute.FileTime past = java.nio.file.attribute.FileTime.fromMillis(1_700_000_000_000L);
        for (Path p : List.of(src.resolve("etc/motd"), src.resolve("etc"), src)) {
            Files.setLastModifiedTime(p, past);
        }
        Path img = tmp.resolve("out.img");
        Result r = run("mkfs", "--from", src.toString(), "--out", img.toString(), "--size", "32M", "--label", "t", "--journal");
        assertEquals(0, r.exit(), r.err());
        assertEquals(32 << 20, Files.size(img));
        ImageCheck.e2fsckClean(img);
        Path again = tmp.resolve("again.img");
        assertEquals(0, run("mkfs", "--from", src.toString(), "--out", again.toString(), "--size", "32M", "--label", "t", "--journal", "--quiet").exit());
        assertEquals(-1, Files.mismatch(img, again), "the same directory gave different images");
    }

    @Test
    void initramfsFromADirectory() throws Exception {
        Path src = tmp.resolve("src");
        Files.createDirectories(src.resolve("bin"));
        Files.writeString(src.resolve("init"), "#!/bin/sh\n");
        Path out = tmp.resolve("i.cpio.gz");
        assertEquals(0, run("initramfs", "--from", src.toString(), "--out", out.toString(), "--quiet", "--owner", "123:456").exit());
        ImageCheck.Run l = ImageCheck.run(tmp, "sh", "-c", "zcat i.cpio.gz | cpio -it --quiet");
        assertEquals(".\nbin\ninit\n", l.out());
        l = ImageCheck.run(tmp, "sh", "-c", "zcat i.cpio.gz | cpio -itv --numeric-uid-gid --quiet");
        assertTrue(l.out().lines().allMatch(x -> x.matches("\\S+\\s+\\d+\\s+123\\s+456\\s.*")), l.out());
    }

    @Test
    void badFlagsAndInputs() throws Exception {
        Path src = tmp.resolve("src");
        Files.createDirectories(src);
        Files.write(src.resolve("big"), new byte[6 << 20]);
        String out = tmp.resolve("o.img").toString();
        assertEquals(2, run().exit());
        refused(run("frobnicate"), "unknown command");
        refused(run("mkfs", "--out", out), "missing --from");
        refused(run("mkfs", "--from", src.toString(), "--out", out, "--size", "lots"), "not a size");
        refused(run("mkfs", "--from", src.toString(), "--out", out, "--bogus"), "unknown option");
        refused(run("mkfs", "--from", src.toString(), "--out", out, "--uuid", "xyz"), "not a UUID");
        refused(run("mkfs", "--from", src.toString(), "--out", out, "--owner", "root"), "--owner wants");
        refused(run("mkfs", "--from", src.toString(), "--out", out, "--label", "a-label-longer-than-16"), "label");
        refused(run("mkfs", "--from", tmp.resolve("missing").toString(), "--out", out), "no such file");
        refused(run("mkfs", "--from", src.toString(), "--out", out, "--size", "4M"), "image is 4 MiB");
        Path junk = tmp.resolve("junk.tar.gz");
        Files.write(junk, new byte[] {0x1f, (byte) 0x8b, 8, 0, 1, 2, 3});
        refused(run("mkfs", "--from", junk.toString(), "--out", out), "junk.tar.gz: broken");
        refused(run("initramfs", "--from", junk.toString(), "--out", out), "junk.tar.gz");
    }
}
