package hg.vmm.internal.snapshot;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The files of a snapshot directory: {@code state}, {@code memory}, and one image per writable disk ({@code vda.img}, ...). */
public record SnapshotLayout(Path dir) {
    public Path state() {
        return dir.resolve("state");
    }

    public Path memory() {
        return dir.resolve("memory");
    }

    public Path disk(String device) {
        return dir.resolve(device + ".img");
    }

    /** Whether {@code file} lies directly in this directory. */
    public boolean holds(Path file) {
        try {
            Path parent = file.toAbsolutePath().getParent();
            return parent != null && Files.isDirectory(dir) && Files.isSameFile(parent, dir);
        } catch (IOException e) {
            return false;
        }
    }
}
