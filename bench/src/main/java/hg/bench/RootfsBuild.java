package hg.bench;

import hg.imagetools.Ext4Image;
import hg.imagetools.Ext4ImageWriter;
import hg.imagetools.FsTree;
import hg.imagetools.Node;
import hg.imagetools.Rootfs;
import hg.imagetools.Sources;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.stream.Stream;

/**
 * rootfs_build: wall time to write an ext4 image of a directory tree.
 *
 * <p>hyper-gen: hg.imagetools' Java API in this (warm) JVM, {@code Sources.read(dir)} then
 * {@code Ext4ImageWriter.write} (no journal, the default). Peer: {@code mke2fs -q -F -t ext4
 * -O ^has_journal -b 4096 -d DIR IMAGE BLOCKS}, the same features (e2fsprogs' ext4 defaults
 * minus the journal, which hyper-gen's images leave out unless asked), the same size in blocks
 * (the size hyper-gen picks for the tree). The two alternate, run after run, on the same tree
 * in the page cache, writing to the same directory. Two trees, two rows: the default busybox
 * rootfs (written out to a directory first) and a large tree (the unpacked linux-source tree
 * that kernel-src/build.sh leaves in the cache, else /usr/share). hyper-gen's image is also
 * written twice from the same tree and compared byte for byte ("byte_identical").
 */
final class RootfsBuild {
    static final String NAME = "rootfs_build";
    static final String PEER = "mke2fs -t ext4 -O ^has_journal -d (e2fsprogs)";
    static final String GOAL = "<= 1.5";
    /** Fixed times for the default rootfs, so its tree is the same from run to run. */
    static final long EPOCH = 1_700_000_000L;

    private RootfsBuild() {}

    /** The two rows of this figure, each measured by its own {@link Figure} so --only picks both. */
    static List<Figure> figures() {
        return List.of(new Tree("default rootfs", RootfsBuild::defaultRootfs, 3, 7),
                new Tree("large tree", RootfsBuild::largeTree, 1, 3));
    }

    interface TreeSource {
        /** Prepares the tree under {@code work}; returns the directory and a description. */
        Map.Entry<Path, String> prepare(Path work) throws Exception;
    }

    record Tree(String label, TreeSource source, int quickRuns, int fullRuns) implements Figure {
        @Override
        public String name() {
            return NAME;
        }

        @Override
        public Result measure(Options options) throws Exception {
            String unit = "s (" + label + ")";
            Path mke2fs = which("mke2fs");
            if (mke2fs == null) {
                return Result.unmeasured(NAME, unit, PEER, GOAL, "mke2fs is not installed (apt-get install e2fsprogs)");
            }
            Path work = options.out().resolve("rootfs").toAbsolutePath();
            Files.createDirectories(work);
            Map.Entry<Path, String> prepared = source.prepare(work);
            Path tree = prepared.getKey();
            Path hgImage = work.resolve("hg.img"), hgImage2 = work.resolve("hg-again.img"), peerImage = work.resolve("mke2fs.img");
            try {
                int runs = options.quick() ? quickRuns : fullRuns;
                // The first write picks the size; every run of both tools then uses it.
                long size = hgBuild(tree, hgImage, OptionalLong.empty()).sizeBytes();
                double[] hg = new double[runs], peer = new double[runs];
                for (int i = 0; i < runs; i++) {
                    long t0 = System.nanoTime();
                    hgBuild(tree, i == 0 ? hgImage2 : hgImage, OptionalLong.of(size));
                    long t1 = System.nanoTime();
                    mke2fs(mke2fs, tree, peerImage, size);
                    long t2 = System.nanoTime();
                    hg[i] = (t1 - t0) / 1e9;
                    peer[i] = (t2 - t1) / 1e9;
                }
                boolean identical = Files.mismatch(hgImage, hgImage2) == -1L;
                Stats h = Stats.of(hg), p = Stats.of(peer);
                System.err.printf(Locale.ROOT, "bench: %s (%s, %s): %d runs; hyper-gen %.3f s (%.3f..%.3f), mke2fs %.3f s"
                                + " (%.3f..%.3f); image %d MiB; hyper-gen image byte-identical across two runs: %s%n",
                        NAME, label, prepared.getValue(), runs, h.median(), h.min(), h.max(), p.median(), p.min(), p.max(),
                        size >> 20, identical ? "yes" : "NO");
                Map<String, Object> extra = new LinkedHashMap<>();
                extra.put("peer_min", p.min());
                extra.put("peer_max", p.max());
                extra.put("image_mib", size >> 20);
                extra.put("byte_identical", identical);
                extra.put("note", label + ": " + prepared.getValue() + "; hg.imagetools Java API (read tree + write"
                        + " image) in a warm JVM vs mke2fs -d, same tree, size and features (no journal)");
                return Result.measured(NAME, unit, h, p.median(), PEER, GOAL, extra);
            } finally {
                Files.deleteIfExists(hgImage);
                Files.deleteIfExists(hgImage2);
                Files.deleteIfExists(peerImage);
            }
        }
    }

    static Ext4Image hgBuild(Path tree, Path image, OptionalLong size) throws IOException {
        Files.deleteIfExists(image);
        Ext4ImageWriter writer = new Ext4ImageWriter().sourceDateEpoch(EPOCH);
        if (size.isPresent()) {
            writer.size(size.getAsLong());
        }
        try (FsTree t = Sources.read(tree)) {
            return writer.write(t, image);
        }
    }

    static void mke2fs(Path mke2fs, Path tree, Path image, long size) throws Exception {
        Files.deleteIfExists(image);
        Gcc.run(List.of(mke2fs.toString(), "-q", "-F", "-t", "ext4", "-O", "^has_journal", "-b", "4096", "-d", tree.toString(),
                image.toString(), Long.toString(size / 4096)), 1800);
    }

    /** The default busybox rootfs (from busybox-static's .deb), written out as a directory. */
    static Map.Entry<Path, String> defaultRootfs(Path work) throws Exception {
        Path dir = work.resolve("default-rootfs");
        deleteTree(dir);
        Path download = Files.createDirectories(work.resolve("deb"));
        Path deb = Rootfs.findBusyboxDeb(null, download);
        try (FsTree tree = Rootfs.tree(deb, OptionalLong.of(EPOCH))) {
            int[] count = {0};
            materialize(tree.root(), dir, new IdentityHashMap<>(), count);
            return Map.entry(dir, count[0] + " files from " + deb.getFileName());
        }
    }

    /** The unpacked linux-source tree of kernel-src/build.sh's cache, else /usr/share. */
    static Map.Entry<Path, String> largeTree(Path work) throws Exception {
        String env = System.getenv("HG_CACHE");
        Path cache = env != null && !env.isBlank() ? Path.of(env)
                : Path.of(System.getProperty("user.home"), ".cache", "hyper-gen");
        Path kernels = cache.resolve("kernels");
        if (Files.isDirectory(kernels)) {
            try (Stream<Path> s = Files.list(kernels)) {
                Path src = s.filter(p -> p.getFileName().toString().startsWith("src-") && Files.isRegularFile(p.resolve(".unpacked")))
                        .sorted().reduce((a, b) -> b).orElse(null);
                if (src != null) {
                    return Map.entry(src, "linux-source " + src.getFileName().toString().substring(4) + ", " + count(src) + " entries");
                }
            }
        }
        Path share = Path.of("/usr/share");
        return Map.entry(share, "/usr/share (no unpacked linux-source in " + kernels + "), " + count(share) + " entries");
    }

    private static long count(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.count();
        }
    }

    /** Writes {@code node} out at {@code path}: directories, files (hard links kept), symlinks; no device nodes. */
    static void materialize(Node node, Path path, Map<Node, Path> written, int[] count) throws IOException {
        switch (node) {
            case Node.Dir d -> {
                Files.createDirectories(path);
                for (Map.Entry<String, Node> e : d.children().entrySet()) {
                    materialize(e.getValue(), path.resolve(e.getKey()), written, count);
                }
                permissions(path, d.meta().permissions());
                Files.setLastModifiedTime(path, FileTime.fromMillis(d.meta().mtimeSeconds() * 1000));
            }
            case Node.File f -> {
                Path first = written.get(f);
                if (first != null) {
                    Files.createLink(path, first);
                } else {
                    try (InputStream in = f.content().open()) {
                        Files.copy(in, path);
                    }
                    permissions(path, f.meta().permissions());
                    Files.setLastModifiedTime(path, FileTime.fromMillis(f.meta().mtimeSeconds() * 1000));
                    written.put(f, path);
                }
                count[0]++;
            }
            case Node.Symlink l -> {
                Files.createSymbolicLink(path, Path.of(l.target()));
                count[0]++;
            }
            case Node.Special s -> {
                // device nodes and FIFOs: not in the default rootfs (devtmpfs provides /dev)
            }
        }
    }

    private static void permissions(Path path, int mode) throws IOException {
        Set<PosixFilePermission> perms = EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] order = {PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE,
                PosixFilePermission.OTHERS_READ, PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE,
                PosixFilePermission.GROUP_READ, PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE,
                PosixFilePermission.OWNER_READ};
        for (int i = 0; i < order.length; i++) {
            if ((mode & (1 << i)) != 0) {
                perms.add(order[i]);
            }
        }
        Files.setPosixFilePermissions(path, perms);
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            List<Path> all = new ArrayList<>(s.toList());
            java.util.Collections.reverse(all);
            for (Path p : all) {
                Files.delete(p);
            }
        }
    }

    /** The tool on PATH or in the sbin directories (often not on a user's PATH), or null. */
    static Path which(String tool) {
        String path = System.getenv().getOrDefault("PATH", "") + ":/usr/sbin:/sbin:/usr/bin:/bin";
        for (String dir : path.split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, tool))) {
                return Path.of(dir, tool);
            }
        }
        return null;
    }
}
