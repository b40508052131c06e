package hg.imagetools;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Hostile archives stop at a cap, each with one line that names it, and nothing is written. */
class LimitsTest {
    @TempDir Path tmp;

    Path write(String name, byte[] data) throws Exception {
        Path p = tmp.resolve(name);
        Files.write(p, data);
        return p;
    }

    String out() { return tmp.resolve("out.img").toString(); }

    /** Refused by both commands, with nothing left under the output name. */
    void refusedBoth(Path from, String mentions, String... flags) {
        for (String cmd : new String[] {"mkfs", "initramfs"}) {
            String[] args = new String[4 + flags.length];
            args[0] = cmd;
            args[1] = "--from";
            args[2] = from.toString();
            args[3] = "--out=" + out();
            System.arraycopy(flags, 0, args, 4, flags.length);
            MainTest.refused(MainTest.run(args), mentions);
            assertTrue(Files.notExists(Path.of(out())), cmd + " left an output");
        }
    }

    @Test
    void aDecompressionBombStopsAtTheUnpackedCap() throws Exception {
        byte[] tar = HostileArchives.tar(t -> HostileArchives.file(t, "zeros", new byte[8 << 20]));
        Path bomb = write("bomb.tar.gz", SourcesTest.compress(tar, "gz"));
        assertTrue(Files.size(bomb) < 64 << 10);
        refusedBoth(bomb, "more than 1 MiB", "--max-unpacked", "1M");
        // the same archive passes under the default cap
        assertTrue(MainTest.run("mkfs", "--from", bomb.toString(), "--out", out(), "--quiet").exit() == 0);
    }

    @Test
    void entriesStopAtTheEntryCap() throws Exception {
        Path many = write("many.tar", HostileArchives.tar(t -> {
            for (int k = 0; k < 100; k++) HostileArchives.file(t, "f" + k, new byte[0]);
        }));
        refusedBoth(many, "more than 50 entries", "--max-entries", "50");
        // directories an archive only implies count too
        Path deep = write("deep.tar", HostileArchives.tar(t -> {
            for (int k = 0; k < 10; k++) HostileArchives.file(t, ("d" + k + "/").repeat(20) + "f", new byte[0]);
        }));
        refusedBoth(deep, "more than 100 entries", "--max-entries", "100");
        // and a directory's files
        Path dir = Files.createDirectories(tmp.resolve("dir"));
        for (int k = 0; k < 10; k++) Files.createFile(dir.resolve("f" + k));
        refusedBoth(dir, "more than 5 entries", "--max-entries", "5");
    }

    @Test
    void theImageSizeIsCapped() throws Exception {
        Path src = Files.createDirectories(tmp.resolve("src"));
        Files.write(src.resolve("big"), new byte[12 << 20]);
        MainTest.refused(MainTest.run("mkfs", "--from", src.toString(), "--out", out(), "--size", "128M", "--max-image", "64M"), "64 MiB");
        MainTest.refused(MainTest.run("mkfs", "--from", src.toString(), "--out", out(), "--max-image", "8M"), "8 MiB");
        assertTrue(Files.notExists(Path.of(out())));
        MainTest.refused(MainTest.run("mkfs", "--from", src.toString(), "--out", out(), "--size", "2T"), "64 GiB");
    }

    /** A symlink target is at most 4095 bytes on Linux; a cpio's is read only after its size is checked. */
    @ParameterizedTest
    @ValueSource(longs = {4096, 0xFFFF_FFFFL})
    void aHugeCpioSymlinkTargetIsRefused(long claimed) throws Exception {
        byte[] target = "t".repeat(claimed > 100_000 ? 10 : (int) claimed).getBytes(StandardCharsets.US_ASCII);
        Path cpio = write("link.cpio", HostileArchives.cpio("etc/link", 0120777, claimed, target));
        refusedBoth(cpio, "symlink target");
    }

    @Test
    void aHugeTarSymlinkTargetIsRefused() throws Exception {
        Path tar = write("link.tar", HostileArchives.tar(t -> HostileArchives.symlink(t, "link", "/x".repeat(2048))));
        refusedBoth(tar, "symlink target");
    }

    @Test
    void aPathLongerThanLinuxAllowsIsRefused() throws Exception {
        Path tar = write("path.tar", HostileArchives.tar(t -> HostileArchives.file(t, "a/".repeat(2100) + "f", new byte[1])));
        refusedBoth(tar, "4096 bytes");
    }

    @Test
    void aHugeEntryHeaderIsRefused() throws Exception {
        Path tar = write("pax.tar", HostileArchives.tar(t -> HostileArchives.file(t, "f", new byte[1], Map.of("comment", "c".repeat(2 << 20)))));
        refusedBoth(tar, "header");
    }

    /** The manifest parser: deep nesting would overflow the stack, a huge one would fill the heap. */
    @Test
    void hostileContainerManifestsAreRefused() throws Exception {
        for (String manifest : new String[] {"[".repeat(100_000), "[" + " ".repeat(5 << 20) + "]"}) {
            FsTree outer = new FsTree();
            outer.put("manifest.json", new Node.File(Trees.meta(0644), Content.of(manifest.getBytes(StandardCharsets.UTF_8))));
            outer.put("l1.tar", new Node.File(Trees.meta(0644), Content.of(SourcesTest.tarBytes(new FsTree()))));
            Path img = write("image.tar", SourcesTest.tarBytes(outer));
            refusedBoth(img, "manifest.json");
        }
    }
}
