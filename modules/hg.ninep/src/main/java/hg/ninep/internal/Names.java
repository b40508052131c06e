package hg.ninep.internal;

import java.util.ArrayList;
import java.util.List;

/**
 * Names and relative paths. A fid's path is a list of validated names beneath the share's
 * root; the kernel (openat2) resolves it, these checks only keep the list well formed.
 */
public final class Names {
    private Names() {}

    /** The longest name a Linux file system takes. */
    public static final int NAME_MAX = 255;

    /** A name to create or look up: not empty, not "." or "..", no "/" (the codec already refused NUL). */
    public static String check(String name) throws ErrnoException {
        if (name.isEmpty() || name.equals(".") || name.equals("..") || name.indexOf('/') >= 0 || name.indexOf('\0') >= 0) {
            throw new ErrnoException(Errno.EINVAL, "bad name");
        }
        if (name.length() > NAME_MAX) {
            throw new ErrnoException(Errno.ENAMETOOLONG, "name too long");
        }
        return name;
    }

    /** One walk step: ".." pops a name (and stays at the root, as 9P says), any other name is checked and pushed. */
    public static List<String> step(List<String> path, String name) throws ErrnoException {
        List<String> next = new ArrayList<>(path);
        if (name.equals("..")) {
            if (!next.isEmpty()) {
                next.removeLast();
            }
        } else {
            next.add(check(name));
        }
        return List.copyOf(next);
    }

    public static List<String> child(List<String> path, String name) throws ErrnoException {
        List<String> next = new ArrayList<>(path);
        next.add(check(name));
        return List.copyOf(next);
    }

    /** The path as openat2 takes it, relative to the root: "." for the root itself. */
    public static String join(List<String> path) {
        return path.isEmpty() ? "." : String.join("/", path);
    }

    public static List<String> parent(List<String> path) {
        return path.subList(0, path.size() - 1);
    }

    public static String last(List<String> path) {
        return path.getLast();
    }

    public static boolean startsWith(List<String> path, List<String> prefix) {
        return path.size() >= prefix.size() && path.subList(0, prefix.size()).equals(prefix);
    }
}
