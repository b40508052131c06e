package hg.boot;

import hg.boot.internal.MpTable;
import hg.boot.internal.PageTables;
import hg.kvm.GuestMemory;
import hg.kvm.GuestMemoryException;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The boot configurator: writes what a Linux kernel expects to find when it is entered (command
 * line, memory map, MP table, GDT, and either the zero page plus identity page tables for the
 * 64-bit boot protocol, or hvm_start_info for PVH) and returns the boot vCPU's initial state.
 * Every input is checked before the first write.
 */
public final class LinuxBoot {
    /** GDT selectors; 0x10 and 0x18 are __BOOT_CS and __BOOT_DS of the Linux boot protocol. */
    public static final int CODE32_SELECTOR = 0x08, CODE64_SELECTOR = 0x10, DATA_SELECTOR = 0x18, TSS_SELECTOR = 0x20;
    static final int GDT_BYTES = 6 * 8;
    static final int TSS_LIMIT = 0x67;

    public static final int MSR_IA32_TSC = 0x10;
    public static final int MSR_IA32_SYSENTER_CS = 0x174, MSR_IA32_SYSENTER_ESP = 0x175, MSR_IA32_SYSENTER_EIP = 0x176;
    public static final int MSR_IA32_MISC_ENABLE = 0x1a0;
    public static final int MSR_MTRR_DEF_TYPE = 0x2ff;
    public static final int MSR_STAR = 0xc0000081, MSR_LSTAR = 0xc0000082, MSR_CSTAR = 0xc0000083;
    public static final int MSR_SYSCALL_MASK = 0xc0000084, MSR_KERNEL_GS_BASE = 0xc0000102;

    static final SegmentRegister CODE32 = flat(CODE32_SELECTOR, 0xb, true, false);
    static final SegmentRegister CODE64 = flat(CODE64_SELECTOR, 0xb, false, true);
    static final SegmentRegister DATA = flat(DATA_SELECTOR, 0x3, true, false);
    static final SegmentRegister TSS = new SegmentRegister(0, TSS_LIMIT, TSS_SELECTOR, 0xb, true, 0, false, false, false, false, false, false);

    /**
     * The special registers every 64-bit boot starts with, one instance for all: whoever lays them out
     * for KVM can keep that by identity.
     */
    public static final SpecialRegisters LONG_MODE_SREGS = new SpecialRegisters(CODE64, DATA, DATA, DATA, DATA, DATA,
            TSS, SegmentRegister.empty(), gdtr(), idtr(),
            SpecialRegisters.CR0_PE | SpecialRegisters.CR0_ET | SpecialRegisters.CR0_PG, 0,
            X86Layout.PML4_ADDRESS, SpecialRegisters.CR4_PAE, 0,
            SpecialRegisters.EFER_LME | SpecialRegisters.EFER_LMA);
    /** The special registers every PVH boot starts with (32-bit protected mode, no paging). */
    public static final SpecialRegisters PVH_SREGS = new SpecialRegisters(CODE32, DATA, DATA, DATA, DATA, DATA,
            TSS, SegmentRegister.empty(), gdtr(), idtr(),
            SpecialRegisters.CR0_PE | SpecialRegisters.CR0_ET, 0, 0, 0, 0, 0);

    private LinuxBoot() {
    }

    /**
     * Sets up the 64-bit Linux boot protocol: the vCPU starts in long mode at the kernel's 64-bit
     * entry with RSI pointing at the zero page.
     */
    public static BootSetup configure(GuestMemory memory, LoadedKernel kernel, BootConfig config) throws BootException {
        Checked c = check(memory, kernel, config, kernel.entry());
        long initrdAddress = config.initrd().isPresent() ? config.initrd().get().address() : 0;
        long initrdSize = config.initrd().isPresent() ? config.initrd().get().size() : 0;
        try {
            writeCommon(memory, c, config.vcpus());
            PageTables.writeIdentity(memory, X86Layout.PML4_ADDRESS, X86Layout.PDPT_ADDRESS, X86Layout.PD_ADDRESS,
                    (int) (X86Layout.IDENTITY_MAPPED / X86Layout.GiB));
            memory.write(X86Layout.ZERO_PAGE_ADDRESS,
                    ZeroPage.build(kernel.setupHeader(), X86Layout.CMDLINE_ADDRESS, c.e820, initrdAddress, initrdSize));
        } catch (GuestMemoryException e) {
            throw new GuestLayoutException("boot structures do not fit in guest memory: " + e.getMessage(), e);
        }
        GeneralRegisters regs = new GeneralRegisters(0, 0, 0, 0, X86Layout.ZERO_PAGE_ADDRESS, 0,
                X86Layout.BOOT_STACK_POINTER, X86Layout.BOOT_STACK_POINTER, 0, 0, 0, 0, 0, 0, 0, 0, kernel.entry(), 2);
        return new BootSetup(new VcpuState(regs, LONG_MODE_SREGS, FpuState.DEFAULT, bootMsrs()), X86Layout.ZERO_PAGE_ADDRESS,
                X86Layout.CMDLINE_ADDRESS, c.cmdline.length, c.e820, X86Layout.MPTABLE_ADDRESS,
                MpTable.size(config.vcpus()));
    }

    /**
     * Sets up the PVH boot: the vCPU starts in 32-bit protected mode without paging at the
     * kernel's XEN_ELFNOTE_PHYS32_ENTRY with EBX pointing at hvm_start_info (version 1, with the
     * memory map; the initrd, if any, as its one module).
     */
    public static BootSetup configurePvh(GuestMemory memory, LoadedKernel kernel, BootConfig config)
            throws BootException {
        if (kernel.pvhEntry().isEmpty()) {
            throw new InvalidKernelException("kernel has no PVH entry (no XEN_ELFNOTE_PHYS32_ENTRY note)");
        }
        long entry = kernel.pvhEntry().getAsLong();
        Checked c = check(memory, kernel, config, entry);
        byte[] info = PvhStartInfo.build(X86Layout.PVH_INFO_ADDRESS, X86Layout.CMDLINE_ADDRESS, c.e820,
                config.initrd());
        try {
            writeCommon(memory, c, config.vcpus());
            memory.write(X86Layout.PVH_INFO_ADDRESS, info);
        } catch (GuestMemoryException e) {
            throw new GuestLayoutException("boot structures do not fit in guest memory: " + e.getMessage(), e);
        }
        GeneralRegisters regs = new GeneralRegisters(0, X86Layout.PVH_INFO_ADDRESS, 0, 0, 0, 0, 0, 0,
                0, 0, 0, 0, 0, 0, 0, 0, entry, 2);
        return new BootSetup(new VcpuState(regs, PVH_SREGS, FpuState.DEFAULT, bootMsrs()), X86Layout.PVH_INFO_ADDRESS,
                X86Layout.CMDLINE_ADDRESS, c.cmdline.length, c.e820, X86Layout.MPTABLE_ADDRESS,
                MpTable.size(config.vcpus()));
    }

    /**
     * MSR values a freshly booted kernel expects (as firmware would leave them): fast strings on, MTRRs write-back.
     * The same list every time, so that a caller comparing against it finds it at once.
     */
    public static List<Msr> bootMsrs() {
        return BOOT_MSRS;
    }

    private static final List<Msr> BOOT_MSRS = List.of(new Msr(MSR_IA32_SYSENTER_CS, 0), new Msr(MSR_IA32_SYSENTER_ESP, 0),
            new Msr(MSR_IA32_SYSENTER_EIP, 0), new Msr(MSR_STAR, 0), new Msr(MSR_CSTAR, 0),
            new Msr(MSR_KERNEL_GS_BASE, 0), new Msr(MSR_SYSCALL_MASK, 0), new Msr(MSR_LSTAR, 0),
            new Msr(MSR_IA32_TSC, 0), new Msr(MSR_IA32_MISC_ENABLE, 1),
            new Msr(MSR_MTRR_DEF_TYPE, (1L << 11) | 6));

    private record Checked(byte[] cmdline, List<E820Entry> e820) {
    }

    private static Checked check(GuestMemory memory, LoadedKernel kernel, BootConfig config, long entry)
            throws BootException {
        if (config.vcpus() < 1 || config.vcpus() > X86Layout.MAX_VCPUS) {
            throw new GuestLayoutException("vCPU count " + config.vcpus() + " is outside 1.." + X86Layout.MAX_VCPUS);
        }
        List<E820Entry> e820 = X86Layout.e820(X86Layout.rangesOf(memory));
        if (!memory.contains(entry, 1) || entry < X86Layout.HIMEM_START) {
            throw new KernelPlacementException(String.format("kernel entry point 0x%x is not in guest RAM above 1 MiB", entry));
        }
        byte[] cmdline = config.cmdline().getBytes(StandardCharsets.UTF_8);
        long limit = Math.min(kernel.setupHeader().cmdlineSize(), X86Layout.CMDLINE_MAX_SIZE - 1);
        if (cmdline.length > limit) {
            throw new CmdlineException(String.format("command line of %d bytes is longer than the kernel's limit of %d",
                    cmdline.length, limit));
        }
        for (int i = 0; i < cmdline.length; i++) {
            if (cmdline[i] == 0) {
                throw new CmdlineException("command line contains a NUL byte at " + i);
            }
        }
        if (config.initrd().isPresent()) {
            InitrdPlacement rd = config.initrd().get();
            if (rd.size() <= 0 || rd.address() < X86Layout.HIMEM_START || !memory.contains(rd.address(), rd.size())) {
                throw new InitrdException(String.format("initrd at 0x%x+0x%x is not in guest RAM above 1 MiB",
                        rd.address(), rd.size()));
            }
            if (rd.end() - 1 > kernel.setupHeader().initrdAddrMax()) {
                throw new InitrdException(String.format("initrd ends at 0x%x, above the kernel's initrd_addr_max 0x%x",
                        rd.end(), kernel.setupHeader().initrdAddrMax()));
            }
            if (rd.address() < kernel.end() && kernel.start() < rd.end()) {
                throw new InitrdException(String.format("initrd at 0x%x..0x%x overlaps the kernel at 0x%x..0x%x",
                        rd.address(), rd.end(), kernel.start(), kernel.end()));
            }
        }
        return new Checked(cmdline, e820);
    }

    private static void writeCommon(GuestMemory memory, Checked c, int vcpus) {
        memory.write(X86Layout.GDT_ADDRESS, GDT);
        memory.write(X86Layout.IDT_ADDRESS, new byte[8]);
        memory.write(X86Layout.CMDLINE_ADDRESS, c.cmdline);
        memory.writeU8(X86Layout.CMDLINE_ADDRESS + c.cmdline.length, 0);
        memory.write(X86Layout.MPTABLE_ADDRESS, MpTable.atLayoutAddress(vcpus));
    }

    /** The same for every VM; only ever copied. */
    private static final byte[] GDT = ByteBuffer.allocate(GDT_BYTES).order(ByteOrder.LITTLE_ENDIAN)
            .putLong(0).putLong(CODE32.descriptor()).putLong(CODE64.descriptor()).putLong(DATA.descriptor())
            .putLong(TSS.descriptor()).putLong(0) // a 64-bit TSS descriptor's upper half: base[63:32] = 0
            .array();

    private static TableRegister gdtr() {
        return new TableRegister(X86Layout.GDT_ADDRESS, GDT_BYTES - 1);
    }

    private static TableRegister idtr() {
        return new TableRegister(X86Layout.IDT_ADDRESS, 7);
    }

    private static SegmentRegister flat(int selector, int type, boolean db, boolean longMode) {
        return new SegmentRegister(0, 0xffffffff, selector, type, true, 0, db, true, longMode, true, false, false);
    }
}
