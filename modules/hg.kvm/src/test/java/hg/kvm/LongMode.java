package hg.kvm;

/**
 * Puts a vCPU straight into 64-bit long mode, as the tests want: identity-mapped first GiB
 * (2 MiB pages), a flat GDT, an optional IDT, all written into guest memory by the test.
 */
final class LongMode {
    private LongMode() {}

    static final long GDT = 0x500;
    static final long IDT = 0x600; // up to 0x30 vectors of 16 bytes: ends below the page tables
    static final long PML4 = 0x2000;
    static final long PDPT = 0x3000;
    static final long PD = 0x4000;
    static final int CODE_SELECTOR = 0x8;
    static final int DATA_SELECTOR = 0x10;
    /** Identity-mapped: everything below 1 GiB. */
    static final long MAPPED = 1L << 30;

    static void writeTables(GuestMemory mem) {
        mem.writeU64(GDT, 0);
        mem.writeU64(GDT + 8, 0x00af9b000000ffffL);  // 64-bit code, present, DPL 0
        mem.writeU64(GDT + 16, 0x00cf93000000ffffL); // flat data
        mem.writeU64(PML4, PDPT | 3);
        mem.writeU64(PDPT, PD | 3);
        for (int i = 0; i < 512; i++) {
            mem.writeU64(PD + 8L * i, ((long) i << 21) | 0x83); // present, writable, 2 MiB page
        }
    }

    /** An interrupt gate for {@code vector} to {@code handler}, in the IDT at {@link #IDT}. */
    static void writeGate(GuestMemory mem, int vector, long handler) {
        long at = IDT + 16L * vector;
        long low = (handler & 0xffff) | ((long) CODE_SELECTOR << 16) | (0x8EL << 40) | ((handler >>> 16) & 0xffff) << 48;
        mem.writeU64(at, low);
        mem.writeU64(at + 8, handler >>> 32);
    }

    static void enter(VcpuFd vcpu, long entry, long stack, int idtVectors) {
        Sregs s = vcpu.sregs();
        vcpu.setSregs(s.toBuilder()
                .cs(Segment.code64(CODE_SELECTOR))
                .dataSegments(Segment.flatData(DATA_SELECTOR))
                .gdt(new DescriptorTable(GDT, 3 * 8 - 1))
                .idt(new DescriptorTable(IDT, Math.max(16 * idtVectors - 1, 0)))
                .cr3(PML4)
                .cr4(Sregs.CR4_PAE)
                .cr0(Sregs.CR0_PE | Sregs.CR0_ET | Sregs.CR0_NE | Sregs.CR0_PG)
                .efer(Sregs.EFER_LME | Sregs.EFER_LMA)
                .build());
        vcpu.setRegs(Regs.builder().rip(entry).rsp(stack).build());
    }
}
