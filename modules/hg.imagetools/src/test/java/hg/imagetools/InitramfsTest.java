package hg.imagetools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InitramfsTest {
    @TempDir Path tmp;

    static byte[] cpio(FsTree t, OptionalLong sde) throws Exception {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        new Initramfs(sde).write(t, b);
        return b.toByteArray();
    }

    @Property(tries = 50)
    void readsBackAsTheSameTree(@ForAll long seed, @ForAll @IntRange(min = 1, max = 300) int inodes) throws Exception {
        try (FsTree t = Trees.random(seed, inodes);
             FsTree back = Sources.readCpio(new ByteArrayInputStream(cpio(t, OptionalLong.empty())), "test.cpio")) {
            assertEquals(ImageCheck.expected(t), ImageCheck.expected(back));
        }
    }

    @Test
    void deterministicAndClampedToSourceDateEpoch() throws Exception {
        try (FsTree a = Trees.everyKind(); FsTree b = Trees.everyKind()) {
            Path x = tmp.resolve("a.cpio.gz"), y = tmp.resolve("b.cpio.gz");
            new Initramfs(OptionalLong.of(1000)).writeGzip(a, x);
            new Initramfs(OptionalLong.of(1000)).writeGzip(b, y);
            assertEquals(-1, Files.mismatch(x, y));
            ImageCheck.Run r = ImageCheck.run(tmp, "sh", "-c", "zcat a.cpio.gz | cpio -itv --quiet 2>&1 | head -3");
            assertTrue(r.out().contains("1970"), r.out());
        }
    }

    /** GNU cpio unpacks it with contents, modes, links and device numbers intact (as root it keeps owners too). */
    @Test
    void gnuCpioExtractsIt() throws Exception {
        try (FsTree t = Trees.everyKind()) {
            Path out = tmp.resolve("initramfs.cpio.gz");
            new Initramfs(OptionalLong.empty()).writeGzip(t, out);
            Path x = tmp.resolve("x");
            Files.createDirectories(x);
            ImageCheck.Run r = ImageCheck.run(x, "sh", "-c", "zcat ../initramfs.cpio.gz | cpio -idm --quiet --no-absolute-filenames");
            assertEquals(0, r.exit(), r.out());
            try (FsTree back = Sources.read(x)) {
                var want = ImageCheck.expected(t);
                var got = ImageCheck.expected(back);
                assertEquals(want.keySet(), got.keySet());
                for (String p : want.keySet()) {
                    ImageCheck.Entry w = want.get(p), g = got.get(p);
                    assertEquals(w.type(), g.type(), p);
                    if (!w.type().equals("symlink")) assertEquals(w.perms(), g.perms(), p);
                    // hard-linked symlinks come out as separate symlinks (the kernel does the same)
                    if (!w.type().equals("symlink")) assertEquals(w.links(), g.links(), p);
                    assertEquals(w.digest(), g.digest(), p);
                    assertEquals(w.target(), g.target(), p);
                    assertEquals(w.major() + ":" + w.minor(), g.major() + ":" + g.minor(), p);
                }
            }
        }
    }
}
