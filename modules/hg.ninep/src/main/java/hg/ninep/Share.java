package hg.ninep;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Objects;

/**
 * A host directory shared with a guest over 9P.
 *
 * @param root     the directory; everything the guest reaches lies beneath it
 * @param tag      the mount tag the guest names it by ({@code mount -t 9p TAG ...}): 1 to
 *                 {@value #MAX_TAG_BYTES} bytes of UTF-8, no NUL
 * @param readOnly when true every change is refused with EROFS
 */
public record Share(Path root, String tag, boolean readOnly) {
    /** The longest tag: QEMU's limit too, well within the config space's le16 length. */
    public static final int MAX_TAG_BYTES = 255;

    public Share {
        Objects.requireNonNull(root, "root");
        Objects.requireNonNull(tag, "tag");
        int n = tag.getBytes(StandardCharsets.UTF_8).length;
        if (n == 0 || n > MAX_TAG_BYTES || tag.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("a 9p mount tag is 1 to " + MAX_TAG_BYTES + " bytes without NUL: " + tag);
        }
    }

    /** The tag as the device's config space carries it. */
    public byte[] tagBytes() {
        return tag.getBytes(StandardCharsets.UTF_8);
    }
}
