package hg.vmm;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * The frozen memory and disks a set of clones share: one directory, counted by its users (the
 * cloning call while it runs, then each clone), removed when the last lets go. Its files stay
 * readable meanwhile: clones map the memory file and read the disk copies under their overlays.
 */
final class FrozenImage {
    private static final System.Logger LOG = System.getLogger("hg.vmm");

    private final Path dir;
    private int users = 1;

    FrozenImage(Path dir) {
        this.dir = dir;
    }

    synchronized void retain() {
        users++;
    }

    synchronized void release() {
        if (--users == 0) {
            remove();
        }
    }

    private void remove() {
        // Unlinking a file a mapping still uses is safe: its pages go when the last mapping does.
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException | UncheckedIOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot remove the clones' frozen image " + dir + ": " + e.getMessage());
        }
    }
}
