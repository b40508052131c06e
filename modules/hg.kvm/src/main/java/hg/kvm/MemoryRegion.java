package hg.kvm;

/** A KVM memory slot: guest-physical range backed by host memory at {@code userspaceAddress}. */
public record MemoryRegion(int slot, int flags, long guestPhysicalAddress, long size, long userspaceAddress) {
    /** Track writes to the slot (KVM_MEM_LOG_DIRTY_PAGES). */
    public static final int FLAG_LOG_DIRTY_PAGES = 1;
    /** Guest writes to the slot exit as MMIO (KVM_MEM_READONLY). */
    public static final int FLAG_READONLY = 2;

    public MemoryRegion {
        if (slot < 0 || (guestPhysicalAddress & 0xfff) != 0 || (size & 0xfff) != 0 || (userspaceAddress & 0xfff) != 0) {
            throw new IllegalArgumentException(String.format(
                    "memory slot %d: guest 0x%x, size 0x%x and host 0x%x must be page aligned",
                    slot, guestPhysicalAddress, size, userspaceAddress));
        }
    }
}
