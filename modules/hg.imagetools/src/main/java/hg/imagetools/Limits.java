package hg.imagetools;

/**
 * The caps that keep a hostile input from making the tool hold or write without bound. Every input
 * is treated as hostile: a small gzip can unpack to terabytes, an archive can list millions of
 * entries or nest JSON until the stack overflows. Hitting a cap is a {@link ImageToolsException}
 * with one line that names the cap.
 *
 * @param maxUnpackedBytes bytes read out of archive streams (after decompression) over one input;
 *     a container image's layers count once inside the image and again as they are unpacked
 * @param maxEntries archive entries over one input, and files, directories and links in the tree
 *     (directories an archive only implies count too)
 * @param maxImageBytes size of an ext4 image, given with --size or worked out from the tree
 */
public record Limits(long maxUnpackedBytes, long maxEntries, long maxImageBytes) {
    /** 16 GiB unpacked, a million entries, 64 GiB images. */
    public static final Limits DEFAULT = new Limits(16L << 30, 1_000_000, 64L << 30);

    /** A symlink target on Linux is at most this many bytes (PATH_MAX less its terminating NUL). */
    public static final int MAX_SYMLINK_TARGET_BYTES = 4095;

    /** A path in the tree (and so an archive entry's name or hard-link target) is at most PATH_MAX bytes. */
    public static final int MAX_PATH_BYTES = 4096;

    /**
     * Bytes an archive reader may read for one entry's header: GNU long names, PAX records, sparse
     * maps. Real headers are a few KiB; the reader holds them in memory, so they are capped apart
     * from the entries' data, which is kept on disk past a budget.
     */
    public static final int MAX_HEADER_BYTES = 1 << 20;

    /** A container image's JSON (manifest.json, index.json, an OCI manifest) is at most this big... */
    public static final int MAX_JSON_BYTES = 4 << 20;

    /** ...and nests at most this deep (real manifests nest 4 levels). */
    public static final int MAX_JSON_DEPTH = 64;

    /** A busybox binary is read whole into memory; Debian's static one is about 2 MiB. */
    public static final int MAX_BUSYBOX_BYTES = 64 << 20;

    public Limits {
        if (maxUnpackedBytes <= 0 || maxEntries <= 0 || maxImageBytes <= 0)
            throw new IllegalArgumentException("limits must be positive");
    }

    public Limits withMaxUnpackedBytes(long n) { return new Limits(n, maxEntries, maxImageBytes); }

    public Limits withMaxEntries(long n) { return new Limits(maxUnpackedBytes, n, maxImageBytes); }

    public Limits withMaxImageBytes(long n) { return new Limits(maxUnpackedBytes, maxEntries, n); }

    /** "16 GiB", "1 MiB", "1536 KiB", "100 bytes": sizes in error lines, as the caps are written. */
    public static String size(long bytes) {
        String[] units = {"bytes", "KiB", "MiB", "GiB", "TiB"};
        int u = 0;
        long v = bytes;
        while (u < units.length - 1 && v >= 1024 && v % 1024 == 0) { v /= 1024; u++; }
        return v + " " + units[u];
    }
}
