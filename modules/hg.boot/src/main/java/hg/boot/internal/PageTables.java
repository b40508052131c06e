package hg.boot.internal;

import hg.kvm.GuestMemory;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

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

    /** Writes the tables; built in one buffer and copied once, which matters on a cold JVM (boot is a one-shot). */
    public static void writeIdentity(GuestMemory memory, long pml4, long pdpt, long pd, int gib) {
        ByteBuffer top = ByteBuffer.allocate(4096).order(ByteOrder.LITTLE_ENDIAN);
        top.putLong(0, pdpt | PRESENT_WRITABLE);
        memory.write(pml4, top.array());
        ByteBuffer dirPointers = ByteBuffer.allocate(4096).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer dirs = ByteBuffer.allocate(gib * 4096).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < gib; i++) {
            dirPointers.putLong(i * 8, (pd + i * 4096L) | PRESENT_WRITABLE);
        }
        for (int e = 0; e < gib * 512; e++) {
            dirs.putLong(e * 8, ((long) e << 21) | PRESENT_WRITABLE | PAGE_SIZE_2M);
        }
        memory.write(pdpt, dirPointers.array());
        memory.write(pd, dirs.array());
    }
}
