package hg.boot;

import hg.kvm.GuestMemory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class LinuxBootTest {
    static final long MiB = 1 << 20, GiB = 1L << 30;
    final GuestMemory memory = GuestMemory.allocate(X86LayoutRanges.of(64 * MiB));

    @AfterEach
    void close() {
        memory.close();
    }

    static final class X86LayoutRanges {
        static List<GuestMemory.Range> of(long size) {
            try {
                return X86Layout.ramRanges(size);
            } catch (GuestLayoutException e) {
                throw new AssertionError(e);
            }
        }
    }

    @Test
    void ramRangesSplitAroundTheMmioHole() throws Exception {
        assertEquals(List.of(new GuestMemory.Range(0, 256 * MiB)), X86Layout.ramRanges(256 * MiB));
        assertEquals(List.of(new GuestMemory.Range(0, 3 * GiB)), X86Layout.ramRanges(3 * GiB));
        assertEquals(List.of(new GuestMemory.Range(0, 3 * GiB), new GuestMemory.Range(4 * GiB, 5 * GiB)),
                X86Layout.ramRanges(8 * GiB));
        assertThrows(GuestLayoutException.class, () -> X86Layout.ramRanges(MiB));
        assertThrows(GuestLayoutException.class, () -> X86Layout.ramRanges(64 * MiB + 1));
        assertThrows(GuestLayoutException.class, () -> X86Layout.ramRanges(2048 * GiB));
        assertEquals(3 * GiB, X86Layout.MMIO_HOLE_START);
        assertEquals(4 * GiB, X86Layout.MMIO_HOLE_END);
    }

    @Test
    void e820OfALargeGuest() throws Exception {
        List<E820Entry> e820 = X86Layout.e820(X86Layout.ramRanges(6 * GiB));
        assertEquals(List.of(new E820Entry(0, 0x9fc00, 1), new E820Entry(0x9fc00, 0x60400, 2),
                new E820Entry(0x100000, 3 * GiB - 0x100000, 1), new E820Entry(4 * GiB, 3 * GiB, 1)), e820);
    }

    @Test
    void zeroPageFieldsSitAtTheBootProtocolOffsets() throws Exception {
        LoadedKernel k = ElfLoader.load(memory, Fixtures.vmlinux().build());
        InitrdPlacement rd = InitrdLoader.load(memory, Fixtures.pattern(0x10001, 5), k);
        BootSetup s = LinuxBoot.configure(memory, k, new BootConfig("console=ttyS0 root=/dev/vda", 2, rd));
        long zp = 0x7000;
        assertEquals(zp, s.bootInfo());
        assertEquals(0xaa55, memory.readU16(zp + 0x1fe));
        assertEquals(0x53726448, memory.readU32(zp + 0x202), "HdrS");
        assertEquals(0x020f, memory.readU16(zp + 0x206));
        assertEquals(0xff, memory.readU8(zp + 0x210), "type_of_loader");
        assertEquals(1, memory.readU8(zp + 0x211) & 1, "LOADED_HIGH");
        assertEquals(0x20000, memory.readU32(zp + 0x228), "cmd_line_ptr");
        assertEquals(0, memory.readU32(zp + 0xc8), "ext_cmd_line_ptr");
        assertEquals(2047, memory.readU32(zp + 0x238), "cmdline_size");
        assertEquals(0x1000000, memory.readU32(zp + 0x230), "kernel_alignment");
        assertEquals("console=ttyS0 root=/dev/vda\0",
                new String(memory.read(0x20000, 28), StandardCharsets.US_ASCII));
        assertEquals(rd.address(), Integer.toUnsignedLong(memory.readU32(zp + 0x218)), "ramdisk_image");
        assertEquals(0x10001, memory.readU32(zp + 0x21c), "ramdisk_size");
        assertEquals(0, memory.readU32(zp + 0xc0));
        assertEquals(0, memory.readU32(zp + 0xc4));
        assertEquals(3, memory.readU8(zp + 0x1e8), "e820_entries");
        for (int i = 0; i < 3; i++) {
            E820Entry e = s.e820().get(i);
            assertEquals(e.address(), memory.readU64(zp + 0x2d0 + i * 20L));
            assertEquals(e.size(), memory.readU64(zp + 0x2d0 + i * 20L + 8));
            assertEquals(e.type(), memory.readU32(zp + 0x2d0 + i * 20L + 16));
        }
        assertEquals(0, memory.readU8(zp + 0x1ef), "sentinel stays 0");
        GuestChecks.assertE820Covers(s.e820(), X86Layout.ramRanges(64 * MiB));
        GuestChecks.assertMpTable(memory, 2);
        // The initrd sits at the top of RAM, page-aligned, above the kernel.
        assertEquals((64 * MiB - 0x10001) & ~0xfffL, rd.address());
        assertArrayEquals(Fixtures.pattern(0x10001, 5), memory.read(rd.address(), 0x10001));
    }

    @Test
    void bzImageSetupHeaderIsCopiedIntoTheZeroPage() throws Exception {
        byte[] image = new Fixtures.BzImage().build();
        LoadedKernel k = BzImageLoader.load(memory, image);
        LinuxBoot.configure(memory, k, new BootConfig("quiet", 1));
        assertEquals(4, memory.readU8(0x7000 + 0x1f1), "setup_sects");
        assertArrayEquals(java.util.Arrays.copyOfRange(image, 0x1f1, 0x210), memory.read(0x7000 + 0x1f1, 0x210 - 0x1f1));
        assertEquals(0x1000000, memory.readU64(0x7000 + 0x258), "pref_address");
        assertEquals(0x400000, memory.readU32(0x7000 + 0x260), "init_size");
        assertEquals(0xff, memory.readU8(0x7000 + 0x210));
        assertEquals(0x100200, LinuxBoot.configure(memory, k, new BootConfig("", 1)).bootCpu().regs().rip());
    }

    @Test
    void longModeRegistersAndTheStructuresTheyPointAt() throws Exception {
        LoadedKernel k = ElfLoader.load(memory, Fixtures.vmlinux().build());
        VcpuState cpu = LinuxBoot.configure(memory, k, new BootConfig("x", 1)).bootCpu();
        GeneralRegisters r = cpu.regs();
        assertEquals(0x1000000, r.rip());
        assertEquals(0x7000, r.rsi());
        assertEquals(0x8ff0, r.rsp());
        assertEquals(2, r.rflags());
        SpecialRegisters s = cpu.sregs();
        assertEquals(0x80000011L, s.cr0(), "PE|ET|PG");
        assertEquals(0x20, s.cr4(), "PAE");
        assertEquals(0x500, s.efer(), "LME|LMA");
        assertEquals(0x9000, s.cr3());
        assertEquals(0x10, s.cs().selector());
        assertTrue(s.cs().l());
        assertFalse(s.cs().db());
        for (SegmentRegister d : List.of(s.ds(), s.es(), s.fs(), s.gs(), s.ss())) {
            assertEquals(0x18, d.selector());
            assertTrue(d.present() && d.s() && d.db() && d.g());
            assertEquals(0xffffffff, d.limit());
        }
        // The GDT in memory holds exactly the descriptors of the segment registers.
        for (SegmentRegister seg : List.of(s.cs(), s.ds(), s.tr())) {
            assertEquals(seg.descriptor(), memory.readU64(s.gdt().base() + seg.selector()), "selector " + seg.selector());
        }
        assertTrue(s.tr().selector() + 15 <= s.gdt().limit(), "the 16-byte TSS descriptor is inside the GDT limit");
        assertEquals(0x00af9b000000ffffL, s.cs().descriptor(), "flat 64-bit code as Linux's own GDT has it");
        assertEquals(0x00cf93000000ffffL, s.ds().descriptor(), "flat data");
        // Identity map of the first 4 GiB in 2 MiB pages, nothing above.
        for (long va : new long[]{0, 0x7000, 0x1000000, 0x3ffffff, GiB + 12345, 3 * GiB + 0x200001, 4 * GiB - 1}) {
            assertEquals(va, GuestChecks.walk(memory, s.cr3(), va), Long.toHexString(va));
        }
        assertEquals(-1, GuestChecks.walk(memory, s.cr3(), 4 * GiB));
        assertEquals(-1, GuestChecks.walk(memory, s.cr3(), 0xffffffff81000000L));
        assertEquals(0x37f, cpu.fpu().fcw());
        assertTrue(cpu.msrs().contains(new Msr(0x2ff, 0x806)), "MTRRs on, write-back default");
    }

    @Test
    void pvhStartInfoAndProtectedModeRegisters() throws Exception {
        LoadedKernel k = ElfLoader.load(memory, Fixtures.vmlinux().build());
        InitrdPlacement rd = InitrdLoader.load(memory, new byte[5000], k);
        BootSetup s = LinuxBoot.configurePvh(memory, k, new BootConfig("console=hvc0", 3, rd));
        long si = 0x6000;
        assertEquals(si, s.bootInfo());
        assertEquals(0x336ec578, memory.readU32(si));
        assertEquals(1, memory.readU32(si + 4));
        assertEquals(1, memory.readU32(si + 12), "nr_modules");
        long modlist = memory.readU64(si + 16);
        assertEquals(rd.address(), memory.readU64(modlist));
        assertEquals(5000, memory.readU64(modlist + 8));
        assertEquals(0x20000, memory.readU64(si + 24), "cmdline_paddr");
        long memmap = memory.readU64(si + 40);
        assertEquals(s.e820().size(), memory.readU32(si + 48));
        for (int i = 0; i < s.e820().size(); i++) {
            assertEquals(s.e820().get(i).address(), memory.readU64(memmap + 24L * i));
            assertEquals(s.e820().get(i).size(), memory.readU64(memmap + 24L * i + 8));
            assertEquals(s.e820().get(i).type(), memory.readU32(memmap + 24L * i + 16));
        }
        VcpuState cpu = s.bootCpu();
        assertEquals(0x1000100, cpu.regs().rip());
        assertEquals(si, cpu.regs().rbx());
        assertEquals(0x11, cpu.sregs().cr0(), "PE|ET, no paging");
        assertEquals(0, cpu.sregs().efer());
        assertTrue(cpu.sregs().cs().db());
        assertFalse(cpu.sregs().cs().l());
        assertEquals(cpu.sregs().cs().descriptor(), memory.readU64(0x500 + cpu.sregs().cs().selector()));
        GuestChecks.assertMpTable(memory, 3);
        Fixtures.Elf noNote = Fixtures.vmlinux();
        noNote.pvhEntry = null;
        LoadedKernel plain = ElfLoader.load(memory, noNote.build());
        assertThrows(InvalidKernelException.class, () -> LinuxBoot.configurePvh(memory, plain, new BootConfig("", 1)));
    }

    @Test
    void refusesBadCommandLinesVcpuCountsAndInitrdsBeforeWritingAnything() throws Exception {
        LoadedKernel k = ElfLoader.load(memory, Fixtures.vmlinux().build());
        byte[] before = memory.read(0, (int) (16 * MiB));
        CmdlineException tooLong = assertThrows(CmdlineException.class,
                () -> LinuxBoot.configure(memory, k, new BootConfig("x".repeat(2048), 1)));
        assertTrue(tooLong.getMessage().contains("2048 bytes"), tooLong.getMessage());
        LinuxBoot.configure(memory, k, new BootConfig("x".repeat(2047), 1)); // exactly the limit is fine
        before = memory.read(0, (int) (16 * MiB));
        assertThrows(CmdlineException.class, () -> LinuxBoot.configure(memory, k, new BootConfig("a\0b", 1)));
        assertThrows(GuestLayoutException.class, () -> LinuxBoot.configure(memory, k, new BootConfig("", 0)));
        assertThrows(GuestLayoutException.class, () -> LinuxBoot.configure(memory, k, new BootConfig("", 255)));
        assertThrows(InitrdException.class, () -> LinuxBoot.configure(memory, k,
                new BootConfig("", 1, new InitrdPlacement(0x1001000, 4096))));
        assertThrows(InitrdException.class, () -> LinuxBoot.configure(memory, k,
                new BootConfig("", 1, new InitrdPlacement(64 * MiB - 4096, 8192))));
        assertArrayEquals(before, memory.read(0, (int) (16 * MiB)), "a refused configuration wrote to guest memory");
    }

    @Test
    void initrdGoesUnderInitrdAddrMaxAndIsRefusedWhenItCannotFit() throws Exception {
        Fixtures.BzImage bz = new Fixtures.BzImage();
        bz.initrdAddrMax = 0x2ffffff;
        LoadedKernel k = BzImageLoader.load(memory, bz.build());
        assertEquals(new InitrdPlacement(0x3000000 - 0x2000, 0x1001), InitrdLoader.place(memory, 0x1001, k));
        long free = 0x3000000 - k.end();
        assertEquals(k.end(), InitrdLoader.place(memory, free, k).address());
        InitrdException e = assertThrows(InitrdException.class, () -> InitrdLoader.place(memory, free + 1, k));
        assertTrue(e.getMessage().contains("does not fit"), e.getMessage());
        assertThrows(InitrdException.class, () -> InitrdLoader.load(memory, new byte[0], k));
        assertEquals(-1, memory.slice(k.end(), 0x3000000 - k.end()).mismatch(MemorySegment.ofArray(new byte[(int) free])));
    }
}
