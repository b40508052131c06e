package hg.shell.internal;

import java.util.List;

/**
 * The guest kernels and guest images the shell offers. Ids are positions among the usable files sorted by
 * name, so they stay the same while a directory does not change; unusable files are listed without an id.
 */
public interface Catalog {
    /** Every file of the kernel directory, sorted by name; empty when there is no usable directory. */
    List<CatalogEntry> kernels();

    /** Every file of the image directory, sorted by name. */
    List<CatalogEntry> images();

    /** The guest kernel directory, or null when none was given. */
    java.nio.file.Path kernelDir();

    java.nio.file.Path imageDir();

    /** What is wrong with the kernel directory (not given, missing, unreadable), or null when it is fine. */
    String kernelDirProblem();

    String imageDirProblem();

    default CatalogEntry.Kernel kernel(int id) throws ShellException {
        List<CatalogEntry> all = kernels();
        List<CatalogEntry.Kernel> usable = all.stream()
                .filter(e -> e instanceof CatalogEntry.Kernel).map(e -> (CatalogEntry.Kernel) e).toList();
        for (CatalogEntry.Kernel k : usable) {
            if (k.id() == id) {
                return k;
            }
        }
        throw new ShellException("no kernel with id " + id + ": " + range("kernel", usable.size(), kernelDirProblem()));
    }

    default CatalogEntry.Image image(int id) throws ShellException {
        List<CatalogEntry.Image> usable = images().stream()
                .filter(e -> e instanceof CatalogEntry.Image).map(e -> (CatalogEntry.Image) e).toList();
        for (CatalogEntry.Image i : usable) {
            if (i.id() == id) {
                return i;
            }
        }
        throw new ShellException("no image with id " + id + ": " + range("image", usable.size(), imageDirProblem()));
    }

    private static String range(String what, int count, String problem) {
        if (count == 0) {
            return problem != null ? problem : "there are no " + what + "s (" + what + "_list shows why)";
        }
        return count == 1 ? "the only " + what + " id is 0 (" + what + "_list)"
                : what + "_list shows ids 0-" + (count - 1);
    }
}
