package hg.vmm.internal.virtio.block;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A real file system through an overlay: a file's blocks rewritten in place, in pieces that
 * straddle clusters, give a disk that e2fsck finds clean and that holds the new content, while
 * the base still holds the old.
 */
class CowOverlayExt4Test {

    static final String SBIN = "/usr/sbin/";

    @TempDir
    Path dir;

    record Run(int exit, String out) {
    }

    static Run run(String... command) throws IOException, InterruptedException {
        return run(true, command);
    }

    /** debugfs prints its banner on stderr: {@code withErrors} false keeps its output the file alone. */
    static Run run(boolean withErrors, String... command) throws IOException, InterruptedException {
        ProcessBuilder b = new ProcessBuilder(command);
        Process p = (withErrors ? b.redirectErrorStream(true) : b.redirectError(ProcessBuilder.Redirect.DISCARD)).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException(command[0] + " did not finish");
        }
        return new Run(p.exitValue(), new String(out, java.nio.charset.StandardCharsets.ISO_8859_1));
    }

    static byte[] content(int length, int seed) {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++) {
            b[i] = (byte) ('a' + (i * 7 + seed) % 26);
        }
        return b;
    }

    @Test
    void aFileRewrittenThroughTheOverlayLeavesACleanFileSystem() throws Exception {
        assumeTrue(Files.isExecutable(Path.of(SBIN + "mke2fs")) && Files.isExecutable(Path.of(SBIN + "debugfs"))
                && Files.isExecutable(Path.of(SBIN + "e2fsck")), "e2fsprogs is not installed");
        int length = 3 * 4096 + 100;
        Path tree = Files.createDirectory(dir.resolve("tree"));
        Files.write(tree.resolve("data.bin"), content(length, 0));
        Path base = dir.resolve("base.img");
        Run made = run(SBIN + "mke2fs", "-q", "-t", "ext4", "-b", "4096", "-d", tree.toString(), "-F", base.toString(), "8M");
        assertEquals(0, made.exit(), made.out());
        byte[] baseBefore = Files.readAllBytes(base);
        Run blocks = run(SBIN + "debugfs", "-R", "blocks /data.bin", base.toString());
        List<Long> where = Arrays.stream(blocks.out().trim().split("\\s+"))
                .filter(s -> s.matches("\\d+")).map(Long::parseLong).toList();
        assertEquals(4, where.size(), blocks.out());

        byte[] updated = content(length, 5);
        Path view = dir.resolve("view.img");
        try (CowOverlay overlay = CowOverlay.create(base, dir.resolve("vm.cow"), false)) {
            // The same length in place: only data blocks change, so the metadata stays true.
            // 1000-byte pieces straddle cluster edges and end mid-cluster in the last block.
            for (int at = 0; at < length; at += 1000) {
                int n = Math.min(1000, length - at);
                long disk = where.get(at / 4096) * 4096 + at % 4096;
                int inBlock = Math.min(n, 4096 - at % 4096);
                overlay.write(ByteBuffer.wrap(updated, at, inBlock), disk);
                if (inBlock < n) {
                    overlay.write(ByteBuffer.wrap(updated, at + inBlock, n - inBlock), where.get(at / 4096 + 1) * 4096);
                }
            }
            overlay.flush();
            // The disk as the clone sees it, for the tools to read.
            try (FileChannel out = FileChannel.open(view, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ByteBuffer buffer = ByteBuffer.allocateDirect(1 << 20);
                for (long at = 0; at < overlay.size(); at += buffer.capacity()) {
                    overlay.read(buffer.clear(), at);
                    out.write(buffer.flip(), at);
                }
            }
        }
        Run check = run(SBIN + "e2fsck", "-fn", view.toString());
        assertEquals(0, check.exit(), check.out());
        assertArrayEquals(updated, run(false, SBIN + "debugfs", "-R", "cat /data.bin", view.toString()).out()
                .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        assertArrayEquals(content(length, 0), run(false, SBIN + "debugfs", "-R", "cat /data.bin", base.toString()).out()
                .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        assertArrayEquals(baseBefore, Files.readAllBytes(base));
    }
}
