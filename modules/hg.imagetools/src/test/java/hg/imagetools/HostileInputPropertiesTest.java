package hg.imagetools;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/**
 * Damaged archives given as a file: reading one gives a tree or one clear refusal (an
 * {@link ImageToolsException}, or an IllegalArgumentException the command line reports as bad
 * input), never another exception, and never more than the caps allow.
 */
class HostileInputPropertiesTest {
    static final Limits SMALL = new Limits(1 << 20, 500, 64L << 20);

    static byte[] base(int kind) throws Exception {
        try (FsTree t = SourcesTest.archivable()) {
            byte[] tar = SourcesTest.tarBytes(t);
            return switch (kind) {
                case 0 -> tar;
                case 1 -> SourcesTest.compress(tar, "gz");
                case 2 -> SourcesTest.compress(tar, "bz2");
                default -> HostileArchives.cpio("etc/link", 0120777, 4, "abcd".getBytes(StandardCharsets.US_ASCII));
            };
        }
    }

    static void readWithin(byte[] bytes) throws Exception {
        Path dir = Files.createTempDirectory("hostile");
        Path f = dir.resolve("input");
        try {
            Files.write(f, bytes);
            try (FsTree t = Sources.read(f, SMALL)) {
                assertNotNull(t.root());
            } catch (ImageToolsException | IllegalArgumentException refused) {
                assertTrue(refused.getMessage() != null && !refused.getMessage().isBlank());
            }
        } finally {
            Files.deleteIfExists(f);
            Files.deleteIfExists(dir);
        }
    }

    @Property(tries = 300)
    void aDamagedArchiveIsReadOrRefusedInOneLine(@ForAll @IntRange(min = 0, max = 3) int kind,
            @ForAll @Size(max = 8) List<@IntRange(min = 0, max = 1 << 20) Integer> positions, @ForAll @Size(max = 8) byte[] values,
            @ForAll @IntRange(min = 0, max = 100) int keepPercent) throws Exception {
        byte[] b = base(kind);
        for (int k = 0; k < Math.min(positions.size(), values.length); k++) b[positions.get(k) % b.length] = values[k];
        int keep = keepPercent == 100 ? b.length : (int) ((long) b.length * keepPercent / 100);
        readWithin(java.util.Arrays.copyOf(b, keep));
    }

    /** A whiteout of any name at all removes at most that name in its own directory, or is refused. */
    @Property(tries = 100)
    void noWhiteoutRemovesTheRoot(@ForAll @IntRange(min = 0, max = 5) int depth, @ForAll("whiteoutNames") String name) throws Exception {
        FsTree upper = new FsTree();
        String dir = "etc/".repeat(depth);
        try {
            upper.put(dir + ".wh." + name, WhiteoutTest.file(""));
        } catch (ImageToolsException notAName) {
            return; // a tree cannot hold it, so no archive in this test carries it
        }
        Path d = Files.createTempDirectory("whiteout");
        Path img = WhiteoutTest.image(d, upper);
        try (FsTree t = Sources.read(img)) {
            // only a whiteout of "top" itself, or the opaque marker at the top, may remove it
            boolean mayRemove = depth == 0 && (name.equals("top") || name.equals(".wh..opq"));
            assertTrue(t.get("top") != null || mayRemove, "a whiteout of " + dir + name + " removed top");
        } catch (ImageToolsException refused) {
            assertTrue(refused.getMessage().contains("whiteout"), refused.getMessage());
        } finally {
            Files.deleteIfExists(img);
            Files.deleteIfExists(d);
        }
    }

    @net.jqwik.api.Provide
    net.jqwik.api.Arbitrary<String> whiteoutNames() {
        return net.jqwik.api.Arbitraries.oneOf(
                net.jqwik.api.Arbitraries.of("", ".", "..", "...", ".wh..opq", "top", "etc", ".wh.", "wh.."),
                net.jqwik.api.Arbitraries.strings().withChars("./wh").ofMaxLength(6));
    }
}
