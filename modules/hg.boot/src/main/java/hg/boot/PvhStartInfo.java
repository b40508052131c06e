package hg.boot;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.Optional;

/** Xen's {@code hvm_start_info} (version 1) with its module list and memory map, laid out in one block. */
final class PvhStartInfo {
    static final int MAGIC = 0x336ec578;
    static final int START_INFO_SIZE = 56;
    static final int MODLIST_OFFSET = 0x40;
    static final int MODLIST_ENTRY_SIZE = 32;
    static final int MEMMAP_OFFSET = 0x80;
    static final int MEMMAP_ENTRY_SIZE = 24;

    private PvhStartInfo() {
    }

    static byte[] build(long address, long cmdline, List<E820Entry> e820, Optional<InitrdPlacement> initrd) {
        byte[] out = new byte[MEMMAP_OFFSET + e820.size() * MEMMAP_ENTRY_SIZE];
        ByteBuffer b = ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0, MAGIC);
        b.putInt(4, 1);                                   // version
        b.putInt(8, 0);                                   // flags
        b.putInt(12, initrd.isPresent() ? 1 : 0);         // nr_modules
        b.putLong(16, initrd.isPresent() ? address + MODLIST_OFFSET : 0);
        b.putLong(24, cmdline);
        b.putLong(32, 0);                                 // rsdp_paddr: no ACPI
        b.putLong(40, address + MEMMAP_OFFSET);
        b.putInt(48, e820.size());
        if (initrd.isPresent()) {
            b.putLong(MODLIST_OFFSET, initrd.get().address());
            b.putLong(MODLIST_OFFSET + 8, initrd.get().size());
        }
        for (int i = 0; i < e820.size(); i++) {
            int at = MEMMAP_OFFSET + i * MEMMAP_ENTRY_SIZE;
            b.putLong(at, e820.get(i).address());
            b.putLong(at + 8, e820.get(i).size());
            b.putInt(at + 16, e820.get(i).type());
        }
        return out;
    }
}
