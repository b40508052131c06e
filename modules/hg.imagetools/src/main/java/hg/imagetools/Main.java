package hg.imagetools;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/** The hg-imagetools command line. Exit codes: 0 done, 2 bad flags or bad input, 1 an I/O failure. */
public final class Main {
    static final String USAGE = """
            usage: hg-imagetools COMMAND [OPTIONS]
              mkfs --from SRC --out IMAGE [--size 512M] [--label NAME] [--uuid UUID] [--journal] [--owner 0:0] [--quiet]
                  raw ext4 image from SRC: a directory, a tar (plain/gzip/xz/bzip2/zstd), a cpio,
                  a Debian .deb, or a container image (docker save tarball / OCI layout, tar or dir)
              rootfs --out IMAGE [--busybox-deb FILE | --busybox BINARY] [--agent FILE] [--size 64M] [--label NAME] [--journal] [--initramfs]
                  the default busybox guest rootfs: an ext4 image, or with --initramfs a cpio.gz;
                  busybox from Debian's busybox-static package (apt cache, else apt-get download)
                  or from a static busybox binary; --agent adds a static hg-agent that init starts
              initramfs --from SRC --out FILE.cpio.gz [--owner 0:0]
                  a gzipped cpio (newc) archive of SRC
            --output is accepted for --out. The output is written beside it and renamed into place
            when complete; an output a running VM holds (locked) is refused.
            --owner UID:GID makes every file owned by UID:GID (for trees gathered without root).
            SOURCE_DATE_EPOCH fixes the times that do not come from the source.
            Every input is treated as hostile and read within caps (each command takes these):
              --max-unpacked SIZE  bytes read out of archives after decompression (default 16G)
              --max-entries N      archive entries, and files/directories in the tree (default 1000000)
              --max-image SIZE     ext4 image size, given or worked out (default 64G)
            and fixed ones: a path is at most 4096 bytes, a symlink target 4095, an archive entry's
            header (long names, PAX records) 1 MiB, a container image's JSON 4 MiB and 64 levels
            deep, a busybox binary 64 MiB. busybox's applets are read from the binary, never run.""";

    private Main() {}

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs one command; returns the exit code. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0 || args[0].equals("-h") || args[0].equals("--help") || args[0].equals("help")) {
            (args.length == 0 ? err : out).println(USAGE);
            return args.length == 0 ? 2 : 0;
        }
        try {
            String cmd = args[0];
            List<String> rest = List.of(args).subList(1, args.length);
            switch (cmd) {
                case "mkfs" -> mkfs(Flags.parse(rest, valued("from", "out", "size", "label", "uuid", "owner"), Set.of("journal", "quiet")), err);
                case "rootfs" -> rootfs(Flags.parse(rest, valued("out", "busybox-deb", "busybox", "agent", "size", "label", "uuid"), Set.of("journal", "initramfs", "quiet")), err);
                case "initramfs" -> initramfs(Flags.parse(rest, valued("from", "out", "owner"), Set.of("quiet")), err);
                default -> throw new UsageException("unknown command '" + cmd + "'");
            }
            return 0;
        } catch (UsageException e) {
            err.println("hg-imagetools: " + e.getMessage());
            err.println(USAGE);
            return 2;
        } catch (ImageToolsException e) {
            err.println("hg-imagetools: " + e.getMessage());
            return 2;
        } catch (IllegalArgumentException e) {
            // a value the model refuses (e.g. an empty symlink target in an archive)
            err.println("hg-imagetools: bad input: " + e.getMessage());
            return 2;
        } catch (IOException | java.io.UncheckedIOException e) {
            err.println("hg-imagetools: I/O error: " + e.getMessage());
            return 1;
        } catch (RuntimeException e) {
            err.println("hg-imagetools: failed: " + e);
            return 1;
        }
    }

    static final class UsageException extends RuntimeException {
        private static final long serialVersionUID = 1L;

        UsageException(String m) { super(m); }
    }

    private static final List<String> LIMIT_FLAGS = List.of("max-unpacked", "max-entries", "max-image");

    /** A command's valued options plus the caps every command takes. */
    private static Set<String> valued(String... names) {
        Set<String> s = new java.util.HashSet<>(List.of(names));
        s.addAll(LIMIT_FLAGS);
        return s;
    }

    /** The caps, defaults changed by --max-unpacked, --max-entries and --max-image. */
    static Limits limits(Flags f) {
        Limits l = Limits.DEFAULT;
        if (f.get("max-unpacked") != null) l = l.withMaxUnpackedBytes(parseSize(f.get("max-unpacked")));
        if (f.get("max-image") != null) l = l.withMaxImageBytes(parseSize(f.get("max-image")));
        if (f.get("max-entries") != null) {
            try {
                long n = Long.parseLong(f.get("max-entries"));
                if (n <= 0) throw new NumberFormatException();
                l = l.withMaxEntries(n);
            } catch (NumberFormatException e) {
                throw new UsageException("--max-entries wants a positive number, not '" + f.get("max-entries") + "'");
            }
        }
        return l;
    }

    record Flags(Map<String, String> values, Set<String> switches) {
        static Flags parse(List<String> args, Set<String> valued, Set<String> bool) {
            Map<String, String> v = new HashMap<>();
            Set<String> s = new java.util.HashSet<>();
            for (int i = 0; i < args.size(); i++) {
                String a = args.get(i);
                if (!a.startsWith("--")) throw new UsageException("unexpected argument '" + a + "'");
                String name = a.substring(2), value = null;
                int eq = name.indexOf('=');
                if (eq >= 0) { value = name.substring(eq + 1); name = name.substring(0, eq); }
                if (name.equals("output")) name = "out";
                if (bool.contains(name) && value == null) { s.add(name); continue; }
                if (!valued.contains(name)) throw new UsageException("unknown option '--" + name + "'");
                if (value == null) {
                    if (i + 1 >= args.size()) throw new UsageException("option '--" + name + "' needs a value");
                    value = args.get(++i);
                }
                v.put(name, value);
            }
            return new Flags(v, s);
        }

        String need(String name) {
            String x = values.get(name);
            if (x == null) throw new UsageException("missing --" + name);
            return x;
        }

        String get(String name) { return values.get(name); }

        boolean has(String name) { return switches.contains(name); }
    }

    static long parseSize(String s) {
        String t = s.trim().toUpperCase(java.util.Locale.ROOT);
        long mult = 1;
        if (t.endsWith("IB")) t = t.substring(0, t.length() - 2);
        else if (t.endsWith("B")) t = t.substring(0, t.length() - 1);
        if (!t.isEmpty()) {
            char c = t.charAt(t.length() - 1);
            int shift = switch (c) { case 'K' -> 10; case 'M' -> 20; case 'G' -> 30; case 'T' -> 40; default -> 0; };
            if (shift > 0) { mult = 1L << shift; t = t.substring(0, t.length() - 1); }
        }
        try {
            long v = Long.parseLong(t);
            if (v <= 0) throw new NumberFormatException();
            return Math.multiplyExact(v, mult);
        } catch (NumberFormatException | ArithmeticException e) {
            throw new UsageException("not a size: '" + s + "' (e.g. 512M, 2G, 1048576)");
        }
    }

    static Progress progress(PrintStream err, boolean quiet) {
        if (quiet) return Progress.NONE;
        return new Progress() {
            long last = System.nanoTime();
            @Override public void update(String phase, long done, long total) {
                long now = System.nanoTime();
                if (now - last < 1_000_000_000L || total <= 0 || done >= total) return;
                last = now;
                err.printf("hg-imagetools: %s %d%%%n", phase, done * 100 / total);
            }
        };
    }

    static Ext4ImageWriter writer(Flags f, PrintStream err) {
        Ext4ImageWriter w = new Ext4ImageWriter().journal(f.has("journal")).progress(progress(err, f.has("quiet"))).limits(limits(f));
        if (f.get("size") != null) w.size(parseSize(f.get("size")));
        if (f.get("label") != null) w.label(f.get("label"));
        if (f.get("uuid") != null) {
            try {
                w.uuid(UUID.fromString(f.get("uuid")));
            } catch (IllegalArgumentException e) {
                throw new UsageException("not a UUID: '" + f.get("uuid") + "'");
            }
        }
        return w;
    }

    /** --owner UID:GID gives every file that owner. */
    static void owner(Flags f, FsTree tree) {
        String o = f.get("owner");
        if (o == null) return;
        String[] p = o.split(":");
        try {
            if (p.length != 2) throw new NumberFormatException();
            tree.forceOwner(Integer.parseUnsignedInt(p[0]), Integer.parseUnsignedInt(p[1]));
        } catch (NumberFormatException e) {
            throw new UsageException("--owner wants UID:GID in numbers, e.g. 0:0, not '" + o + "'");
        }
    }

    static void mkfs(Flags f, PrintStream err) throws IOException {
        Path from = Path.of(f.need("from")), out = Path.of(f.need("out"));
        Ext4ImageWriter w = writer(f, err);
        OutputFile.refuseIfInUse(out); // before reading: the write would refuse it anyway, later
        if (!f.has("quiet")) err.printf("hg-imagetools: reading %s%n", from);
        try (FsTree tree = Sources.read(from, limits(f))) {
            owner(f, tree);
            Ext4Image img = w.write(tree, out);
            if (!f.has("quiet")) err.printf("hg-imagetools: wrote %s: %d MiB, %d MiB free, %d inodes free, UUID %s%n",
                    out, img.sizeBytes() >> 20, img.freeBlocks() * 4096 >> 20, img.freeInodes(), img.uuid());
        }
    }

    static void rootfs(Flags f, PrintStream err) throws IOException {
        Path out = Path.of(f.need("out"));
        if (f.get("busybox") != null && f.get("busybox-deb") != null) throw new UsageException("give --busybox or --busybox-deb, not both");
        Path given = f.get("busybox-deb") == null ? null : Path.of(f.get("busybox-deb"));
        Ext4ImageWriter w = writer(f, err);
        OutputFile.refuseIfInUse(out);
        Path tmp = java.nio.file.Files.createTempDirectory("hg-imagetools-");
        try {
            Path from = f.get("busybox") != null ? Path.of(f.get("busybox")) : Rootfs.findBusyboxDeb(given, tmp);
            try (FsTree tree = f.get("busybox") != null ? Rootfs.treeFromBinary(from, Ext4ImageWriter.envSourceDateEpoch())
                    : Rootfs.tree(from, Ext4ImageWriter.envSourceDateEpoch(), limits(f))) {
                if (f.get("agent") != null) {
                    Rootfs.addAgent(tree, Path.of(f.get("agent")));
                }
                if (f.has("initramfs")) {
                    new Initramfs().writeGzip(tree, out);
                    if (!f.has("quiet")) err.printf("hg-imagetools: wrote %s (busybox from %s)%n", out, from);
                    return;
                }
                Ext4Image img = w.write(tree, out);
                if (!f.has("quiet")) err.printf("hg-imagetools: wrote %s: %d MiB, busybox from %s%n", out, img.sizeBytes() >> 20, from);
            }
        } finally {
            try (var s = java.nio.file.Files.list(tmp)) {
                for (Path p : (Iterable<Path>) s::iterator) java.nio.file.Files.deleteIfExists(p);
            }
            java.nio.file.Files.deleteIfExists(tmp);
        }
    }

    static void initramfs(Flags f, PrintStream err) throws IOException {
        Path from = Path.of(f.need("from")), out = Path.of(f.need("out"));
        limits(f); // a bad cap is a usage error before anything is read
        OutputFile.refuseIfInUse(out);
        try (FsTree tree = Sources.read(from, limits(f))) {
            owner(f, tree);
            new Initramfs().writeGzip(tree, out);
        }
        if (!f.has("quiet")) err.printf("hg-imagetools: wrote %s%n", out);
    }
}
