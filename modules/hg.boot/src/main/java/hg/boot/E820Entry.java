package hg.boot;

/** One entry of the BIOS-style E820 memory map handed to the guest kernel. */
public record E820Entry(long address, long size, int type) {
    public static final int RAM = 1;
    public static final int RESERVED = 2;

    public long end() {
        return address + size;
    }
}
