package hg.imagetools.internal;

import java.util.zip.CRC32C;

/**
 * ext4's metadata checksums: crc32c without the final inversion, chained from ~0 through the
 * filesystem UUID (the checksum seed), then e.g. the inode number and generation.
 * {@link CRC32C} computes ~crc(~0, data); feeding the prefix first gives the same chain.
 */
final class Csum {
    private final byte[] uuid;

    Csum(byte[] uuid) { this.uuid = uuid.clone(); }

    /** raw crc32c(~0, data) with no seed: the superblock's own checksum. */
    static int plain(byte[] data, int off, int len) {
        CRC32C c = new CRC32C();
        c.update(data, off, len);
        return (int) ~c.getValue();
    }

    CRC32C seeded() {
        CRC32C c = new CRC32C();
        c.update(uuid);
        return c;
    }

    /** Seed continued by inode number and generation: the per-inode seed of extent and directory blocks. */
    CRC32C inodeSeeded(int ino, int generation) {
        CRC32C c = seeded();
        c.update(Le.le32(ino));
        c.update(Le.le32(generation));
        return c;
    }

    static int value(CRC32C c) { return (int) ~c.getValue(); }
}
