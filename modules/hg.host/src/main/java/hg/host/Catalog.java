package hg.host;

import hg.host.internal.IdRegistry;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * The guest kernels and guest images the shell offers. A usable file has an id that stays with its file name
 * for the life of the shell (see {@link IdRegistry}); unusable files are listed without an id. vm_create takes
 * either the id or the file name.
 */
public interface Catalog {
    /** Every file of the kernel directory, sorted by name; empty when there is no usable directory. */
    List<CatalogEntry> kernels();

    /** Every file of the image directory, sorted by name. */
    List<CatalogEntry> images();

    /** The guest kernel directory, or null when none was given. */
    Path kernelDir();

    Path imageDir();

    /** What is wrong with the kernel directory (not given, missing, unreadable), or null when it is fine. */
    String kernelDirProblem();

    String imageDirProblem();

    default CatalogEntry.Kernel kernel(int id) throws HostException {
        return byId(kernels(), id, "kernel", kernelDirProblem(), Catalog::asKernel);
    }

    default CatalogEntry.Image image(int id) throws HostException {
        return byId(images(), id, "image", imageDirProblem(), Catalog::asImage);
    }

    /** The kernel a vm_create word names: an id (digits), else a file name in the kernel directory. */
    default CatalogEntry.Kernel kernel(String word) throws HostException {
        return lookUp(kernels(), word, "kernel", kernelDir(), kernelDirProblem(), Catalog::asKernel);
    }

    /** The image a vm_create or --disk word names: an id (digits), else a file name in the image directory. */
    default CatalogEntry.Image image(String word) throws HostException {
        return lookUp(images(), word, "image", imageDir(), imageDirProblem(), Catalog::asImage);
    }

    private static CatalogEntry.Kernel asKernel(CatalogEntry e) {
        return e instanceof CatalogEntry.Kernel k ? k : null;
    }

    private static CatalogEntry.Image asImage(CatalogEntry e) {
        return e instanceof CatalogEntry.Image i ? i : null;
    }

    private static <T extends CatalogEntry.Usable> T lookUp(List<CatalogEntry> all, String word, String what, Path dir,
                                                            String problem, Function<CatalogEntry, T> usable)
            throws HostException {
        if (word.matches("\\d{1,9}")) {
            int id = Integer.parseInt(word);
            for (CatalogEntry e : all) {
                T t = usable.apply(e);
                if (t != null && t.id() == id) {
                    return t;
                }
            }
            if (all.stream().noneMatch(e -> e.fileName().equals(word))) {
                return byId(all, id, what, problem, usable); // throws, naming the ids there are
            }
        }
        // Only a plain name of a file listed in the directory: never a path that leads elsewhere.
        if (word.isEmpty() || word.contains("/") || word.equals(".") || word.equals("..") || word.indexOf('\0') >= 0) {
            throw new HostException("'" + word + "' is not " + article(what) + " id or file name: give an id or a file "
                    + "name from " + what + "_list (a file of " + dir + ", without '/')");
        }
        for (CatalogEntry e : all) {
            if (e.fileName().equals(word)) {
                T t = usable.apply(e);
                if (t != null) {
                    return t;
                }
                throw new HostException(word + ": " + switch (e) {
                    case CatalogEntry.Rejected r -> r.reason();
                    case CatalogEntry.Kernel k -> "a kernel, not an image";
                    case CatalogEntry.Image i -> "an image, not a kernel";
                });
            }
        }
        throw new HostException(problem != null && all.isEmpty() ? "no " + what + " named '" + word + "': " + problem
                : "no " + what + " named '" + word + "' in " + dir + ": " + what + "_list shows the " + what + "s");
    }

    private static <T extends CatalogEntry.Usable> T byId(List<CatalogEntry> all, int id, String what, String problem,
                                                          Function<CatalogEntry, T> usable) throws HostException {
        List<Integer> ids = new ArrayList<>();
        for (CatalogEntry e : all) {
            T t = usable.apply(e);
            if (t != null) {
                if (t.id() == id) {
                    return t;
                }
                ids.add(t.id());
            }
        }
        throw new HostException("no " + what + " with id " + id + ": " + known(what, ids, problem));
    }

    private static String known(String what, List<Integer> ids, String problem) {
        if (ids.isEmpty()) {
            return problem != null ? problem : "there are no " + what + "s (" + what + "_list shows why)";
        }
        return ids.size() == 1 ? "the only " + what + " id is " + ids.getFirst() + " (" + what + "_list)"
                : what + "_list shows ids " + ranges(ids);
    }

    /** "0-2, 5, 7-8" for the ids 0, 1, 2, 5, 7, 8: ids stay with their files, so there may be gaps. */
    private static String ranges(List<Integer> ids) {
        List<Integer> sorted = ids.stream().sorted().toList();
        List<String> parts = new ArrayList<>();
        int start = sorted.getFirst();
        int prev = start;
        for (int i = 1; i <= sorted.size(); i++) {
            if (i < sorted.size() && sorted.get(i) == prev + 1) {
                prev = sorted.get(i);
                continue;
            }
            parts.add(start == prev ? String.valueOf(start) : start + "-" + prev);
            if (i < sorted.size()) {
                start = sorted.get(i);
                prev = start;
            }
        }
        return String.join(", ", parts);
    }

    private static String article(String what) {
        return (what.startsWith("i") ? "an " : "a ") + what;
    }
}
