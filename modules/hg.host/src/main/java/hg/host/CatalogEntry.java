package hg.host;

import java.nio.file.Path;

/** One file of a guest kernel or guest image directory, as the catalog sees it. */
public sealed interface CatalogEntry {
    Path path();

    long size();

    default String fileName() {
        return path().getFileName().toString();
    }

    /** A file vm_create can use, by its id or its file name. */
    sealed interface Usable extends CatalogEntry {
        int id();
    }

    /** A guest kernel that can be booted; {@code format} is "vmlinux" or "bzImage". */
    record Kernel(int id, Path path, long size, String format) implements Usable {}

    /** A raw ext2/3/4 root filesystem image; {@code label} is the volume label, maybe empty. */
    record Image(int id, Path path, long size, String fsType, String label) implements Usable {}

    /** A file that is neither; it gets no id, only the reason. */
    record Rejected(Path path, long size, String reason) implements CatalogEntry {}
}
