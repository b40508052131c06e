package hg.imagetools;

import hg.imagetools.internal.BlobStore;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A file tree in memory: the common model every source reader produces and every writer consumes.
 * File contents read from archives are kept in memory or, past a budget, in a temporary file that
 * {@link #close()} deletes.
 */
public final class FsTree implements AutoCloseable {
    /** Modes and owner of directories an archive implies but does not list. */
    public static final Meta IMPLIED_DIR = new Meta(0755, 0, 0, 0);

    private final Node.Dir root;
    private final BlobStore blobs = new BlobStore();
    private final long maxNodes;
    // names ever added through put and parentOf: removals do not give them back, so a layered
    // image that replaces the same files again and again still stops
    private long nodesAdded;

    public FsTree() { this(Limits.DEFAULT); }

    /** An empty tree that refuses to grow past {@code limits.maxEntries()} names. */
    public FsTree(Limits limits) { this(new Node.Dir(IMPLIED_DIR), limits); }

    public FsTree(Node.Dir root) { this(root, Limits.DEFAULT); }

    private FsTree(Node.Dir root, Limits limits) {
        this.root = root;
        this.maxNodes = limits.maxEntries();
    }

    public Node.Dir root() { return root; }

    /** Keeps the bytes of {@code in} (exactly {@code size} of them) for the life of this tree. */
    public Content store(InputStream in, long size) throws IOException { return blobs.store(in, size); }

    /** Splits "a/b//c/" into [a, b, c]; "." parts dropped; ".." and paths over PATH_MAX are refused. */
    public static List<String> split(String path) {
        // Linux takes no longer path; a longer one would also make as many directories as it has slashes
        if (path.length() > Limits.MAX_PATH_BYTES / 3 && path.getBytes(StandardCharsets.UTF_8).length > Limits.MAX_PATH_BYTES)
            throw new ImageToolsException.BadName("path longer than " + Limits.MAX_PATH_BYTES + " bytes: " + path.substring(0, 40) + "...");
        List<String> parts = new ArrayList<>();
        for (String p : path.split("/")) {
            if (p.isEmpty() || p.equals(".")) continue;
            if (p.equals("..")) throw new ImageToolsException.BadName("path goes up with '..': " + path);
            checkName(p);
            parts.add(p);
        }
        return parts;
    }

    static void checkName(String name) {
        if (name.isEmpty() || name.equals(".") || name.equals("..") || name.indexOf('/') >= 0 || name.indexOf('\0') >= 0)
            throw new ImageToolsException.BadName("not a valid file name: '" + name + "'");
        if (name.getBytes(StandardCharsets.UTF_8).length > 255)
            throw new ImageToolsException.BadName("name longer than 255 bytes: " + name.substring(0, 40) + "...");
    }

    /** The node at {@code path}, or null. Symlinks are not followed. */
    public Node get(String path) {
        Node n = root;
        for (String p : split(path)) {
            if (!(n instanceof Node.Dir d)) return null;
            n = d.child(p);
            if (n == null) return null;
        }
        return n;
    }

    /** The directory holding {@code path}'s last part, creating missing ones (and replacing non-directories). */
    public Node.Dir parentOf(List<String> parts, Meta implied) {
        Node.Dir d = root;
        for (int i = 0; i < parts.size() - 1; i++) {
            Node c = d.child(parts.get(i));
            if (c instanceof Node.Dir cd) {
                d = cd;
            } else {
                Node.Dir nd = new Node.Dir(implied);
                added();
                d.put(parts.get(i), nd);
                d = nd;
            }
        }
        return d;
    }

    /**
     * Puts {@code node} at {@code path}. Putting a directory where a directory already is keeps the
     * old children and takes the new metadata, as unpacking an archive over a tree does.
     */
    public void put(String path, Node node) {
        List<String> parts = split(path);
        if (parts.isEmpty()) {
            if (node instanceof Node.Dir) { root.meta(node.meta()); return; }
            throw new ImageToolsException.BadSource("the root can only be a directory");
        }
        Node.Dir parent = parentOf(parts, IMPLIED_DIR);
        String name = parts.getLast();
        if (node instanceof Node.Dir nd && parent.child(name) instanceof Node.Dir old) {
            old.meta(nd.meta());
            return;
        }
        if (parent.child(name) == null) added();
        parent.put(name, node);
    }

    private void added() {
        if (++nodesAdded > maxNodes)
            throw new ImageToolsException.OverLimit("more than " + maxNodes + " entries (files, directories and links; the cap on entries, --max-entries)");
    }

    /** Removes {@code path} if present; returns whether it was. The root cannot be removed. */
    public boolean remove(String path) {
        List<String> parts = split(path);
        if (parts.isEmpty()) throw new ImageToolsException.BadName("cannot remove the root: '" + path + "'");
        Node n = get(String.join("/", parts.subList(0, parts.size() - 1)));
        return n instanceof Node.Dir d && d.remove(parts.getLast()) != null;
    }

    /** Gives every node the same owner (e.g. 0:0 for a tree gathered without root). */
    public void forceOwner(int uid, int gid) {
        java.util.Set<Node> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        java.util.ArrayDeque<Node> todo = new java.util.ArrayDeque<>(List.of(root));
        while (!todo.isEmpty()) {
            Node n = todo.pop();
            if (!seen.add(n)) continue;
            n.meta(n.meta().withOwner(uid, gid));
            if (n instanceof Node.Dir d) todo.addAll(d.children().values());
        }
    }

    @Override
    public void close() { blobs.close(); }
}
