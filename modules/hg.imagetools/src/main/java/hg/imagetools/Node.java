package hg.imagetools;

import java.util.Collections;
import java.util.Comparator;
import java.util.NavigableMap;
import java.util.TreeMap;

/**
 * One inode of a file tree. The same node object placed under several names is a hard link
 * (directories cannot be linked twice).
 */
public sealed abstract class Node permits Node.Dir, Node.File, Node.Symlink, Node.Special {
    /** Byte order of the names' UTF-8 encoding, which is code point order. */
    public static final Comparator<String> NAME_ORDER = (a, b) -> {
        int i = 0, j = 0;
        while (i < a.length() && j < b.length()) {
            int ca = a.codePointAt(i), cb = b.codePointAt(j);
            if (ca != cb) return Integer.compare(ca, cb);
            i += Character.charCount(ca);
            j += Character.charCount(cb);
        }
        return Integer.compare(a.length() - i, b.length() - j);
    };

    private Meta meta;

    private Node(Meta meta) { this.meta = meta; }

    public Meta meta() { return meta; }

    public void meta(Meta m) { this.meta = java.util.Objects.requireNonNull(m); }

    /** A directory; children sorted by name. */
    public static final class Dir extends Node {
        private final TreeMap<String, Node> children = new TreeMap<>(NAME_ORDER);

        public Dir(Meta meta) { super(meta); }

        public NavigableMap<String, Node> children() { return Collections.unmodifiableNavigableMap(children); }

        public Node child(String name) { return children.get(name); }

        public void put(String name, Node node) {
            FsTree.checkName(name);
            children.put(name, node);
        }

        public Node remove(String name) { return children.remove(name); }

        public void clear() { children.clear(); }
    }

    public static final class File extends Node {
        private Content content;

        public File(Meta meta, Content content) { super(meta); this.content = content; }

        public Content content() { return content; }

        public void content(Content c) { this.content = c; }
    }

    public static final class Symlink extends Node {
        private final String target;

        public Symlink(Meta meta, String target) {
            super(meta);
            if (target.isEmpty()) throw new IllegalArgumentException("empty symlink target");
            if (!fits(target))
                throw new ImageToolsException.BadName("symlink target longer than " + Limits.MAX_SYMLINK_TARGET_BYTES + " bytes");
            this.target = target;
        }

        /** Whether Linux can hold {@code target} as a symlink's target. */
        public static boolean fits(String target) {
            return target.length() <= Limits.MAX_SYMLINK_TARGET_BYTES / 3
                    || target.getBytes(java.nio.charset.StandardCharsets.UTF_8).length <= Limits.MAX_SYMLINK_TARGET_BYTES;
        }

        public String target() { return target; }
    }

    /** Device nodes, FIFOs and sockets. */
    public static final class Special extends Node {
        public enum Type { CHAR_DEVICE, BLOCK_DEVICE, FIFO, SOCKET }

        private final Type type;
        private final int major, minor;

        public Special(Meta meta, Type type, int major, int minor) {
            super(meta);
            this.type = type;
            this.major = major;
            this.minor = minor;
        }

        public Type type() { return type; }

        public int major() { return major; }

        public int minor() { return minor; }
    }
}
