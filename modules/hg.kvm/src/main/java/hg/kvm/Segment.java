package hg.kvm;

/**
 * A segment register as KVM sees it (struct kvm_segment): the hidden descriptor part included.
 * {@code type} is the 4-bit descriptor type, {@code s} the code/data (vs system) bit.
 */
public record Segment(long base, int limit, int selector, int type, boolean present, int dpl,
                      boolean db, boolean s, boolean l, boolean g, boolean avl, boolean unusable) {

    public Segment {
        if ((selector & ~0xffff) != 0 || (type & ~0xf) != 0 || (dpl & ~3) != 0) {
            throw new IllegalArgumentException(String.format(
                    "bad segment: selector 0x%x type 0x%x dpl %d", selector, type, dpl));
        }
    }

    /** A 64-bit code segment (type 0xb: execute/read, accessed) at the given selector. */
    public static Segment code64(int selector) {
        return new Segment(0, 0xffffffff, selector, 0xb, true, 0, false, true, true, true, false, false);
    }

    /** A flat 4 GiB read/write data segment (type 0x3) at the given selector. */
    public static Segment flatData(int selector) {
        return new Segment(0, 0xffffffff, selector, 0x3, true, 0, true, true, false, true, false, false);
    }

    /** A flat 32-bit code segment (type 0xb) at the given selector. */
    public static Segment code32(int selector) {
        return new Segment(0, 0xffffffff, selector, 0xb, true, 0, true, true, false, true, false, false);
    }

    public Segment withBase(long newBase) {
        return new Segment(newBase, limit, selector, type, present, dpl, db, s, l, g, avl, unusable);
    }

    public Segment withSelector(int newSelector) {
        return new Segment(base, limit, newSelector, type, present, dpl, db, s, l, g, avl, unusable);
    }

    public Segment withLimit(int newLimit) {
        return new Segment(base, newLimit, selector, type, present, dpl, db, s, l, g, avl, unusable);
    }
}
