package hg.boot;

/** Where an initrd was loaded: guest-physical address and size in bytes. */
public record InitrdPlacement(long address, long size) {
    public long end() {
        return address + size;
    }
}
