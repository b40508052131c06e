package hg.boot.internal;

import hg.kvm.GuestMemory;

/**
 * Identity page tables for entering 64-bit mode: one PML4, one PDPT and {@code count} page
 * directories of 2 MiB pages, mapping virtual = physical for the first {@code count} GiB. Linux
 * replaces them within its first instructions; they only have to cover the kernel, the zero page,
 * the command line and the initrd.
 */
public final class PageTables {
    static final long PRESENT_WRITABLE = 0x3;
    static final long PAGE_SIZE_2M = 0x80;

    private PageTables() {
    }

    public static void writeIdentity(GuestMemory memory, long pml4, long pdpt, long pd, int gib) {
        memory.fill(pml4, 4096, (byte) 0);
        memory.fill(pdpt, 4096, (byte) 0);
        memory.writeU64(pml4, pdpt | PRESENT_WRITABLE);
        for (int i = 0; i < gib; i++) {
            long dir = pd + i * 4096L;
            memory.writeU64(pdpt + i * 8L, dir | PRESENT_WRITABLE);
            for (int j = 0; j < 512; j++) {
                long physical = ((long) i << 30) | ((long) j << 21);
                memory.writeU64(dir + j * 8L, physical | PRESENT_WRITABLE | PAGE_SIZE_2M);
            }
        }
    }
}
