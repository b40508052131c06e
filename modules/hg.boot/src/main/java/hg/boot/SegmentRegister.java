package hg.boot;

/**
 * A segment register's hidden state (KVM's {@code kvm_segment}). {@code limit} is in bytes as the
 * CPU applies it (0xffffffff for a flat 4 GiB segment with G set); {@link #descriptor()} gives the
 * matching 8-byte GDT entry, so the GDT in guest memory and the registers never disagree.
 */
public record SegmentRegister(long base, int limit, int selector, int type, boolean present, int dpl, boolean db,
                      boolean s, boolean l, boolean g, boolean avl, boolean unusable) {

    /** A segment register that holds nothing (LDTR before any LDT is loaded). */
    public static SegmentRegister empty() {
        return new SegmentRegister(0, 0, 0, 0, false, 0, false, false, false, false, false, true);
    }

    /** The low 8 bytes of the descriptor for this segment (a 64-bit system segment's high half is base[63:32]). */
    public long descriptor() {
        long rawLimit = g ? Integer.toUnsignedLong(limit) >>> 12 : Integer.toUnsignedLong(limit) & 0xfffff;
        return (rawLimit & 0xffff)
                | (base & 0xffffffL) << 16
                | (long) (type & 0xf) << 40
                | (s ? 1L : 0L) << 44
                | (long) (dpl & 3) << 45
                | (present ? 1L : 0L) << 47
                | ((rawLimit >>> 16) & 0xf) << 48
                | (avl ? 1L : 0L) << 52
                | (l ? 1L : 0L) << 53
                | (db ? 1L : 0L) << 54
                | (g ? 1L : 0L) << 55
                | ((base >>> 24) & 0xff) << 56;
    }
}
