package hg.imagetools;

import hg.imagetools.internal.Ext4Builder;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.UUID;

/**
 * Writes an ext4 filesystem image from a {@link FsTree}, with no root, no mount and no mke2fs.
 * The image has 4 KiB blocks, extents, metadata checksums, and (optionally) an internal journal.
 * The same tree and options always give the same bytes: the UUID and hash seed are derived from
 * the tree unless given, and times not taken from the tree come from {@code SOURCE_DATE_EPOCH}.
 *
 * <pre>{@code
 * try (FsTree tree = Sources.read(Path.of("rootdir"))) {
 *     Ext4Image img = new Ext4ImageWriter().label("root").write(tree, Path.of("root.img"));
 * }
 * }</pre>
 */
public final class Ext4ImageWriter {
    private OptionalLong sizeBytes = OptionalLong.empty();
    private String label = "";
    private Optional<UUID> uuid = Optional.empty();
    private boolean journal;
    private OptionalLong sourceDateEpoch = envSourceDateEpoch();
    private Progress progress = Progress.NONE;
    private long maxImageBytes = Limits.DEFAULT.maxImageBytes();

    /** A writer with the defaults: automatic size, no label, derived UUID, no journal. */
    public Ext4ImageWriter() {}

    /** Exact image size (rounded down to 4 KiB); without it the size is what the tree needs plus headroom. */
    public Ext4ImageWriter size(long bytes) {
        if (bytes <= 0) throw new ImageToolsException("image size must be positive: " + bytes);
        this.sizeBytes = OptionalLong.of(bytes);
        return this;
    }

    public Ext4ImageWriter label(String l) {
        if (l.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > 16)
            throw new ImageToolsException("label longer than 16 bytes: " + l);
        this.label = l;
        return this;
    }

    public Ext4ImageWriter uuid(UUID u) { this.uuid = Optional.of(u); return this; }

    public Ext4ImageWriter journal(boolean j) { this.journal = j; return this; }

    /** Overrides the environment's SOURCE_DATE_EPOCH (seconds). */
    public Ext4ImageWriter sourceDateEpoch(long seconds) { this.sourceDateEpoch = OptionalLong.of(seconds); return this; }

    public Ext4ImageWriter progress(Progress p) { this.progress = p; return this; }

    /** The cap on the image's size, given or worked out ({@link Limits#maxImageBytes()}). */
    public Ext4ImageWriter limits(Limits l) { this.maxImageBytes = l.maxImageBytes(); return this; }

    /**
     * Writes the image as a sparse file beside {@code out} and renames it over {@code out} once
     * complete; refuses an {@code out} that a running VM holds.
     */
    public Ext4Image write(FsTree tree, Path out) throws IOException {
        Ext4Builder b = new Ext4Builder(tree, sizeBytes, label, uuid, journal, sourceDateEpoch, progress).maxBytes(maxImageBytes);
        try (OutputFile o = OutputFile.create(out)) {
            Ext4Image img = b.write(o.temp());
            o.commit();
            return img;
        }
    }

    /** SOURCE_DATE_EPOCH from the environment, if set and numeric. */
    public static OptionalLong envSourceDateEpoch() {
        String s = System.getenv("SOURCE_DATE_EPOCH");
        if (s == null || s.isBlank()) return OptionalLong.empty();
        try {
            return OptionalLong.of(Long.parseLong(s.trim()));
        } catch (NumberFormatException e) {
            throw new ImageToolsException("SOURCE_DATE_EPOCH is not a number of seconds: " + s);
        }
    }
}
