package hg.boot;

import hg.kvm.GuestMemory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class ElfLoaderTest {
    static final long MiB = 1 << 20;
    final GuestMemory memory = GuestMemory.allocate(List.of(new GuestMemory.Range(0, 32 * MiB)));

    @AfterEach
    void close() {
        memory.close();
    }

    @Test
    void loadsSegmentsAtPhysicalAddressesAndZeroesBss() throws Exception {
        memory.fill(0x1000000, 0x7000, (byte) 0xaa); // stale bytes where the bss goes
        Fixtures.Elf elf = Fixtures.vmlinux();
        LoadedKernel k = ElfLoader.load(memory, elf.build());
        assertEquals(KernelFormat.VMLINUX, k.format());
        assertEquals(0x1000000, k.entry());
        assertEquals(0x1000000, k.start());
        assertEquals(0x1006800, k.end());
        assertEquals(0x1000100, k.pvhEntry().orElseThrow());
        assertArrayEquals(elf.segments.get(0).data(), memory.read(0x1000000, 0x3000));
        assertArrayEquals(new byte[0x2000], memory.read(0x1003000, 0x2000), "bss zeroed");
        assertEquals((byte) 0xaa, memory.read(0x1005000, 1)[0], "nothing written between segments");
        assertArrayEquals(elf.segments.get(1).data(), memory.read(0x1006000, 0x800));
    }

    @Test
    void findsA4BytePvhNoteAndToleratesNone() throws Exception {
        assertEquals(0x1000200, ElfLoader.load(memory, Fixtures.vmlinux().pvh(0x1000200, 4).build()).pvhEntry().orElseThrow());
        Fixtures.Elf none = Fixtures.vmlinux();
        none.pvhEntry = null;
        assertTrue(ElfLoader.load(memory, none.build()).pvhEntry().isEmpty());
    }

    @Test
    void refusesWrongClassEncodingTypeAndMachine() {
        Fixtures.Elf e32 = Fixtures.vmlinux();
        e32.elfClass = 1;
        assertRefused(InvalidKernelException.class, "32-bit", e32.build());
        Fixtures.Elf be = Fixtures.vmlinux();
        be.dataEncoding = 2;
        assertRefused(InvalidKernelException.class, "little-endian", be.build());
        Fixtures.Elf dyn = Fixtures.vmlinux();
        dyn.type = 3;
        assertRefused(InvalidKernelException.class, "ET_DYN", dyn.build());
        Fixtures.Elf arm = Fixtures.vmlinux();
        arm.machine = 183;
        assertRefused(InvalidKernelException.class, "machine 183", arm.build());
        Fixtures.Elf ph = Fixtures.vmlinux();
        ph.phentsize = 32;
        assertRefused(InvalidKernelException.class, "entry size 32", ph.build());
        assertRefused(InvalidKernelException.class, "not an ELF", new byte[100]);
    }

    @Test
    void refusesEveryTruncation() {
        byte[] full = Fixtures.vmlinux().build();
        int lastDataByte = full.length; // the last segment ends at the file end
        for (int n = 0; n < lastDataByte; n += (n < 600 ? 1 : 97)) {
            byte[] cut = Arrays.copyOf(full, n);
            BootException e = assertThrows(BootException.class, () -> ElfLoader.load(memory, cut), "length " + n);
            assertInstanceOf(InvalidKernelException.class, e, e.getMessage());
        }
        assertMemoryUntouched();
    }

    @Test
    void refusesBadPlacement() {
        assertRefused(KernelPlacementException.class, "below 1 MiB",
                new Fixtures.Elf().entry(0x80000).segment(0x80000, new byte[16], 16).build());
        assertRefused(KernelPlacementException.class, "outside guest RAM",
                new Fixtures.Elf().entry(0x1f000000L).segment(0x1f000000L, new byte[16], 0x2000000).build());
        assertRefused(KernelPlacementException.class, "overlap",
                new Fixtures.Elf().entry(0x1000000).segment(0x1000000, new byte[16], 0x2000)
                        .segment(0x1001000, new byte[16], 16).build());
        assertRefused(InvalidKernelException.class, "overflows",
                new Fixtures.Elf().entry(-16).segment(-16, new byte[16], 64).build());
        assertRefused(InvalidKernelException.class, "smaller than its file size",
                new Fixtures.Elf().entry(0x1000000).segment(0x1000000, new byte[64], 16).build());
    }

    @Test
    void refusesEntryAndPvhEntryOutsideTheSegments() {
        assertRefused(InvalidKernelException.class, "entry point 0x2000000",
                Fixtures.vmlinux().entry(0x2000000).build());
        assertRefused(InvalidKernelException.class, "PVH entry point 0x3000000",
                Fixtures.vmlinux().pvh(0x3000000, 8).build());
        assertRefused(InvalidKernelException.class, "above 4 GiB",
                Fixtures.vmlinux().pvh(0x100000000L, 8).build());
        assertRefused(InvalidKernelException.class, "no loadable",
                new Fixtures.Elf().pvh(0x1000, 4).build());
    }

    @Test
    void refusesANoteRunningPastItsSegment() {
        Fixtures.Elf e = Fixtures.vmlinux();
        byte[] image = e.build();
        // The PVH note's descsz is the second word of the second note (after the 24-byte GNU note).
        int noteOff = 64 + 56 * 3;
        java.nio.ByteBuffer.wrap(image).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(noteOff + 24 + 4, 4096);
        assertRefused(InvalidKernelException.class, "runs past the end", image);
    }

    void assertRefused(Class<? extends BootException> type, String words, byte[] image) {
        BootException e = assertThrows(BootException.class, () -> ElfLoader.load(memory, image));
        assertInstanceOf(type, e, e.getMessage());
        assertTrue(e.getMessage().contains(words), e.getMessage());
        assertMemoryUntouched();
    }

    void assertMemoryUntouched() {
        MemorySegment all = memory.slice(0, memory.size());
        assertEquals(-1, all.mismatch(MemorySegment.ofArray(new byte[(int) memory.size()])), "a refused kernel wrote to guest memory");
    }
}
