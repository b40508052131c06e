package hg.imagetools;

import java.util.UUID;

/** What {@link Ext4ImageWriter} wrote. */
public record Ext4Image(long sizeBytes, long blocks, long freeBlocks, long inodes, long freeInodes, UUID uuid) {}
