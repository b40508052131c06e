package hg.kvm;

import hg.kvm.internal.Layouts;

import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/** Reads and writes the value records from and to their C structs. */
final class Structs {
    private Structs() {}

    private static long off(GroupLayout l, String... path) {
        return Layouts.offset(l, path);
    }

    // --- kvm_regs: 18 consecutive u64 in record order
    static Regs readRegs(MemorySegment s) {
        long[] v = new long[18];
        for (int i = 0; i < 18; i++) {
            v[i] = s.getAtIndex(JAVA_LONG, i);
        }
        return new Regs(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13],
                v[14], v[15], v[16], v[17]);
    }

    static void writeRegs(MemorySegment s, Regs r) {
        long[] v = {r.rax(), r.rbx(), r.rcx(), r.rdx(), r.rsi(), r.rdi(), r.rsp(), r.rbp(), r.r8(), r.r9(), r.r10(),
                r.r11(), r.r12(), r.r13(), r.r14(), r.r15(), r.rip(), r.rflags()};
        for (int i = 0; i < 18; i++) {
            s.setAtIndex(JAVA_LONG, i, v[i]);
        }
    }

    // --- kvm_segment
    private static final GroupLayout SEG = Layouts.KVM_SEGMENT;
    private static final long SEG_BASE = off(SEG, "base"), SEG_LIMIT = off(SEG, "limit"),
            SEG_SELECTOR = off(SEG, "selector"), SEG_TYPE = off(SEG, "type"), SEG_PRESENT = off(SEG, "present"),
            SEG_DPL = off(SEG, "dpl"), SEG_DB = off(SEG, "db"), SEG_S = off(SEG, "s"), SEG_L = off(SEG, "l"),
            SEG_G = off(SEG, "g"), SEG_AVL = off(SEG, "avl"), SEG_UNUSABLE = off(SEG, "unusable");

    private static int u8(MemorySegment s, long o) {
        return Byte.toUnsignedInt(s.get(JAVA_BYTE, o));
    }

    private static boolean bool(MemorySegment s, long o) {
        return s.get(JAVA_BYTE, o) != 0;
    }

    private static void put(MemorySegment s, long o, boolean v) {
        s.set(JAVA_BYTE, o, (byte) (v ? 1 : 0));
    }

    static Segment readSegment(MemorySegment s, long at) {
        return new Segment(s.get(JAVA_LONG, at + SEG_BASE), s.get(JAVA_INT, at + SEG_LIMIT),
                Short.toUnsignedInt(s.get(JAVA_SHORT, at + SEG_SELECTOR)), u8(s, at + SEG_TYPE) & 0xf,
                bool(s, at + SEG_PRESENT), u8(s, at + SEG_DPL) & 3, bool(s, at + SEG_DB), bool(s, at + SEG_S),
                bool(s, at + SEG_L), bool(s, at + SEG_G), bool(s, at + SEG_AVL), bool(s, at + SEG_UNUSABLE));
    }

    static void writeSegment(MemorySegment s, long at, Segment g) {
        s.set(JAVA_LONG, at + SEG_BASE, g.base());
        s.set(JAVA_INT, at + SEG_LIMIT, g.limit());
        s.set(JAVA_SHORT, at + SEG_SELECTOR, (short) g.selector());
        s.set(JAVA_BYTE, at + SEG_TYPE, (byte) g.type());
        put(s, at + SEG_PRESENT, g.present());
        s.set(JAVA_BYTE, at + SEG_DPL, (byte) g.dpl());
        put(s, at + SEG_DB, g.db());
        put(s, at + SEG_S, g.s());
        put(s, at + SEG_L, g.l());
        put(s, at + SEG_G, g.g());
        put(s, at + SEG_AVL, g.avl());
        put(s, at + SEG_UNUSABLE, g.unusable());
    }

    // --- kvm_sregs
    private static final GroupLayout SR = Layouts.KVM_SREGS;
    private static final String[] SEGS = {"cs", "ds", "es", "fs", "gs", "ss", "tr", "ldt"};
    private static final long DT_BASE = off(Layouts.KVM_DTABLE, "base"), DT_LIMIT = off(Layouts.KVM_DTABLE, "limit");

    static Sregs readSregs(MemorySegment s) {
        Segment[] g = new Segment[8];
        for (int i = 0; i < 8; i++) {
            g[i] = readSegment(s, off(SR, SEGS[i]));
        }
        long gdt = off(SR, "gdt"), idt = off(SR, "idt"), bitmap = off(SR, "interrupt_bitmap");
        long[] bits = new long[4];
        for (int i = 0; i < 4; i++) {
            bits[i] = s.get(JAVA_LONG, bitmap + 8L * i);
        }
        return new Sregs(g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7],
                new DescriptorTable(s.get(JAVA_LONG, gdt + DT_BASE), Short.toUnsignedInt(s.get(JAVA_SHORT, gdt + DT_LIMIT))),
                new DescriptorTable(s.get(JAVA_LONG, idt + DT_BASE), Short.toUnsignedInt(s.get(JAVA_SHORT, idt + DT_LIMIT))),
                s.get(JAVA_LONG, off(SR, "cr0")), s.get(JAVA_LONG, off(SR, "cr2")), s.get(JAVA_LONG, off(SR, "cr3")),
                s.get(JAVA_LONG, off(SR, "cr4")), s.get(JAVA_LONG, off(SR, "cr8")), s.get(JAVA_LONG, off(SR, "efer")),
                s.get(JAVA_LONG, off(SR, "apic_base")), bits);
    }

    static void writeSregs(MemorySegment s, Sregs r) {
        Segment[] g = {r.cs(), r.ds(), r.es(), r.fs(), r.gs(), r.ss(), r.tr(), r.ldt()};
        for (int i = 0; i < 8; i++) {
            writeSegment(s, off(SR, SEGS[i]), g[i]);
        }
        long gdt = off(SR, "gdt"), idt = off(SR, "idt"), bitmap = off(SR, "interrupt_bitmap");
        s.set(JAVA_LONG, gdt + DT_BASE, r.gdt().base());
        s.set(JAVA_SHORT, gdt + DT_LIMIT, (short) r.gdt().limit());
        s.set(JAVA_LONG, idt + DT_BASE, r.idt().base());
        s.set(JAVA_SHORT, idt + DT_LIMIT, (short) r.idt().limit());
        s.set(JAVA_LONG, off(SR, "cr0"), r.cr0());
        s.set(JAVA_LONG, off(SR, "cr2"), r.cr2());
        s.set(JAVA_LONG, off(SR, "cr3"), r.cr3());
        s.set(JAVA_LONG, off(SR, "cr4"), r.cr4());
        s.set(JAVA_LONG, off(SR, "cr8"), r.cr8());
        s.set(JAVA_LONG, off(SR, "efer"), r.efer());
        s.set(JAVA_LONG, off(SR, "apic_base"), r.apicBase());
        long[] bits = r.interruptBitmap();
        for (int i = 0; i < 4; i++) {
            s.set(JAVA_LONG, bitmap + 8L * i, bits[i]);
        }
    }

    // --- kvm_fpu
    private static final GroupLayout FPU = Layouts.KVM_FPU;

    static Fpu readFpu(MemorySegment s) {
        byte[] fpr = s.asSlice(off(FPU, "fpr"), 128).toArray(JAVA_BYTE);
        byte[] xmm = s.asSlice(off(FPU, "xmm"), 256).toArray(JAVA_BYTE);
        return new Fpu(fpr, Short.toUnsignedInt(s.get(JAVA_SHORT, off(FPU, "fcw"))),
                Short.toUnsignedInt(s.get(JAVA_SHORT, off(FPU, "fsw"))), u8(s, off(FPU, "ftwx")),
                Short.toUnsignedInt(s.get(JAVA_SHORT, off(FPU, "last_opcode"))),
                s.get(JAVA_LONG, off(FPU, "last_ip")), s.get(JAVA_LONG, off(FPU, "last_dp")), xmm,
                s.get(JAVA_INT, off(FPU, "mxcsr")));
    }

    static void writeFpu(MemorySegment s, Fpu f) {
        MemorySegment.copy(MemorySegment.ofArray(f.fpr()), 0, s, off(FPU, "fpr"), 128);
        MemorySegment.copy(MemorySegment.ofArray(f.xmm()), 0, s, off(FPU, "xmm"), 256);
        s.set(JAVA_SHORT, off(FPU, "fcw"), (short) f.fcw());
        s.set(JAVA_SHORT, off(FPU, "fsw"), (short) f.fsw());
        s.set(JAVA_BYTE, off(FPU, "ftwx"), (byte) f.ftwx());
        s.set(JAVA_SHORT, off(FPU, "last_opcode"), (short) f.lastOpcode());
        s.set(JAVA_LONG, off(FPU, "last_ip"), f.lastIp());
        s.set(JAVA_LONG, off(FPU, "last_dp"), f.lastDp());
        s.set(JAVA_INT, off(FPU, "mxcsr"), f.mxcsr());
    }

    // --- kvm_cpuid_entry2
    private static final GroupLayout CE = Layouts.KVM_CPUID_ENTRY2;

    static CpuidEntry readCpuidEntry(MemorySegment s, long at) {
        return new CpuidEntry(s.get(JAVA_INT, at + off(CE, "function")), s.get(JAVA_INT, at + off(CE, "index")),
                s.get(JAVA_INT, at + off(CE, "flags")), s.get(JAVA_INT, at + off(CE, "eax")),
                s.get(JAVA_INT, at + off(CE, "ebx")), s.get(JAVA_INT, at + off(CE, "ecx")),
                s.get(JAVA_INT, at + off(CE, "edx")));
    }

    static void writeCpuidEntry(MemorySegment s, long at, CpuidEntry e) {
        s.asSlice(at, CE.byteSize()).fill((byte) 0);
        s.set(JAVA_INT, at + off(CE, "function"), e.function());
        s.set(JAVA_INT, at + off(CE, "index"), e.index());
        s.set(JAVA_INT, at + off(CE, "flags"), e.flags());
        s.set(JAVA_INT, at + off(CE, "eax"), e.eax());
        s.set(JAVA_INT, at + off(CE, "ebx"), e.ebx());
        s.set(JAVA_INT, at + off(CE, "ecx"), e.ecx());
        s.set(JAVA_INT, at + off(CE, "edx"), e.edx());
    }

    // --- kvm_vcpu_events
    private static final GroupLayout EV = Layouts.KVM_VCPU_EVENTS;

    static VcpuEvents readEvents(MemorySegment s) {
        return new VcpuEvents(
                new VcpuEvents.Exception(bool(s, off(EV, "exception", "injected")), u8(s, off(EV, "exception", "nr")),
                        bool(s, off(EV, "exception", "has_error_code")), bool(s, off(EV, "exception", "pending")),
                        s.get(JAVA_INT, off(EV, "exception", "error_code"))),
                new VcpuEvents.Interrupt(bool(s, off(EV, "interrupt", "injected")), u8(s, off(EV, "interrupt", "nr")),
                        bool(s, off(EV, "interrupt", "soft")), u8(s, off(EV, "interrupt", "shadow"))),
                new VcpuEvents.Nmi(bool(s, off(EV, "nmi", "injected")), bool(s, off(EV, "nmi", "pending")),
                        bool(s, off(EV, "nmi", "masked"))),
                s.get(JAVA_INT, off(EV, "sipi_vector")), s.get(JAVA_INT, off(EV, "flags")),
                new VcpuEvents.Smi(bool(s, off(EV, "smi", "smm")), bool(s, off(EV, "smi", "pending")),
                        bool(s, off(EV, "smi", "smm_inside_nmi")), bool(s, off(EV, "smi", "latched_init"))),
                bool(s, off(EV, "triple_fault", "pending")), bool(s, off(EV, "exception_has_payload")),
                s.get(JAVA_LONG, off(EV, "exception_payload")));
    }

    static void writeEvents(MemorySegment s, VcpuEvents e) {
        s.fill((byte) 0);
        put(s, off(EV, "exception", "injected"), e.exception().injected());
        s.set(JAVA_BYTE, off(EV, "exception", "nr"), (byte) e.exception().nr());
        put(s, off(EV, "exception", "has_error_code"), e.exception().hasErrorCode());
        put(s, off(EV, "exception", "pending"), e.exception().pending());
        s.set(JAVA_INT, off(EV, "exception", "error_code"), e.exception().errorCode());
        put(s, off(EV, "interrupt", "injected"), e.interrupt().injected());
        s.set(JAVA_BYTE, off(EV, "interrupt", "nr"), (byte) e.interrupt().nr());
        put(s, off(EV, "interrupt", "soft"), e.interrupt().soft());
        s.set(JAVA_BYTE, off(EV, "interrupt", "shadow"), (byte) e.interrupt().shadow());
        put(s, off(EV, "nmi", "injected"), e.nmi().injected());
        put(s, off(EV, "nmi", "pending"), e.nmi().pending());
        put(s, off(EV, "nmi", "masked"), e.nmi().masked());
        s.set(JAVA_INT, off(EV, "sipi_vector"), e.sipiVector());
        s.set(JAVA_INT, off(EV, "flags"), e.flags());
        put(s, off(EV, "smi", "smm"), e.smi().smm());
        put(s, off(EV, "smi", "pending"), e.smi().pending());
        put(s, off(EV, "smi", "smm_inside_nmi"), e.smi().smmInsideNmi());
        put(s, off(EV, "smi", "latched_init"), e.smi().latchedInit());
        put(s, off(EV, "triple_fault", "pending"), e.tripleFaultPending());
        put(s, off(EV, "exception_has_payload"), e.exceptionHasPayload());
        s.set(JAVA_LONG, off(EV, "exception_payload"), e.exceptionPayload());
    }

    // --- kvm_clock_data
    private static final GroupLayout CL = Layouts.KVM_CLOCK_DATA;

    static ClockData readClock(MemorySegment s) {
        return new ClockData(s.get(JAVA_LONG, off(CL, "clock")), s.get(JAVA_INT, off(CL, "flags")),
                s.get(JAVA_LONG, off(CL, "realtime")), s.get(JAVA_LONG, off(CL, "host_tsc")));
    }

    static void writeClock(MemorySegment s, ClockData c) {
        s.fill((byte) 0);
        s.set(JAVA_LONG, off(CL, "clock"), c.clock());
        s.set(JAVA_INT, off(CL, "flags"), c.flags());
        s.set(JAVA_LONG, off(CL, "realtime"), c.realtime());
        s.set(JAVA_LONG, off(CL, "host_tsc"), c.hostTsc());
    }
}
