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

    /**
     * Writes the tables. They depend only on where they sit and how much they map, so the bytes are made once
     * per layout and copied from then on: the 2,048 entries of four GiB cost a cold JVM more than the copy.
     */
    public static void writeIdentity(GuestMemory memory, long pml4, long pdpt, long pd, int gib) {
        Tables t = cached;
        if (t == null || t.pml4 != pml4 || t.pdpt != pdpt || t.pd != pd || t.gib != gib) {
            t = new Tables(pml4, pdpt, pd, gib, top(pdpt), dirPointers(pd, gib), dirs(gib));
            cached = t;
        }
        memory.write(pml4, t.top);
        memory.write(pdpt, t.dirPointers);
        memory.write(pd, t.dirs);
    }

    /** The last layout's tables; every VM of a process has the same one. Arrays are never written once made. */
    private static volatile Tables cached;

    private record Tables(long pml4, long pdpt, long pd, int gib, byte[] top, byte[] dirPointers, byte[] dirs) {
    }

    private static byte[] top(long pdpt) {
        ByteBuffer top = ByteBuffer.allocate(4096).order(ByteOrder.LITTLE_ENDIAN);
        top.putLong(0, pdpt | PRESENT_WRITABLE);
        return top.array();
    }

    private static byte[] dirPointers(long pd, int gib) {
        ByteBuffer dirPointers = ByteBuffer.allocate(4096).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < gib; i++) {
            dirPointers.putLong(i * 8, (pd + i * 4096L) | PRESENT_WRITABLE);
        }
        return dirPointers.array();
    }

    private static byte[] dirs(int gib) {
        ByteBuffer dirs = ByteBuffer.allocate(gib * 4096).order(ByteOrder.LITTLE_ENDIAN);
        for (int e = 0; e < gib * 512; e++) {
            dirs.putLong(e * 8, ((long) e << 21) | PRESENT_WRITABLE | PAGE_SIZE_2M);
        }
        return dirs.array();
    }
}
