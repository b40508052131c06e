package hg.vmm.internal.snapshot;

import hg.kvm.ClockData;
import hg.kvm.CpuidEntry;
import hg.kvm.DebugRegs;
import hg.kvm.DescriptorTable;
import hg.kvm.Fpu;
import hg.kvm.IrqchipState;
import hg.kvm.LapicState;
import hg.kvm.MsrEntry;
import hg.kvm.PitState;
import hg.kvm.Regs;
import hg.kvm.Segment;
import hg.kvm.Sregs;
import hg.kvm.VcpuEvents;
import hg.kvm.Xcr;
import hg.kvm.Xsave;
import hg.vmm.internal.cpu.MachineState;
import hg.vmm.internal.cpu.VcpuState;

import java.util.ArrayList;
import java.util.List;

/**
 * KVM's state of a vCPU and of a VM in the snapshot's encoding. Decoding bounds every count
 * and length; the records' own checks (segment fields, table limits, region sizes) refuse the
 * rest, and KVM checks what it is given once more.
 */
final class KvmStateCodec {
    static final int MAX_XSAVE = 64 << 10;
    static final int MAX_XCRS = 16;
    static final int MAX_MSRS = 4096;
    static final int MAX_CPUID = 1024;
    /** KVM_MP_STATE_* values up to KVM_MP_STATE_AP_RESET_HOLD. */
    static final int MAX_MP_STATE = 10;

    private KvmStateCodec() {
    }

    // ---- vCPU

    static void write(StateWriter w, VcpuState s) {
        writeRegs(w, s.regs());
        writeSregs(w, s.sregs());
        writeFpu(w, s.fpu());
        w.bytes(s.xsave().region());
        w.u32(s.xcrs().size());
        for (Xcr x : s.xcrs()) {
            w.u32(x.xcr()).u64(x.value());
        }
        w.u32(s.msrs().size());
        for (MsrEntry m : s.msrs()) {
            w.u32(m.index()).u64(m.data());
        }
        w.bytes(s.lapic().regs());
        w.u32(s.mpState());
        writeEvents(w, s.events());
        DebugRegs d = s.debugRegs();
        for (long db : d.db()) {
            w.u64(db);
        }
        w.u64(d.dr6()).u64(d.dr7()).u64(d.flags());
    }

    static VcpuState readVcpu(StateReader r) throws SnapshotFormatException {
        Regs regs = readRegs(r);
        Sregs sregs = readSregs(r);
        Fpu fpu = readFpu(r);
        byte[] xsave = r.bytes("xsave area", MAX_XSAVE);
        int nx = r.count("xcr", MAX_XCRS);
        List<Xcr> xcrs = new ArrayList<>();
        for (int i = 0; i < nx; i++) {
            xcrs.add(new Xcr(r.u32("xcr index"), r.u64("xcr value")));
        }
        int nm = r.count("msr", MAX_MSRS);
        List<MsrEntry> msrs = new ArrayList<>();
        for (int i = 0; i < nm; i++) {
            msrs.add(new MsrEntry(r.u32("msr index"), r.u64("msr value")));
        }
        byte[] lapic = r.bytesExactly("lapic", LapicState.SIZE);
        int mp = r.u32("mp state", 0, MAX_MP_STATE);
        VcpuEvents events = readEvents(r);
        long[] db = new long[4];
        for (int i = 0; i < 4; i++) {
            db[i] = r.u64("debug register");
        }
        DebugRegs debug = new DebugRegs(db, r.u64("dr6"), r.u64("dr7"), r.u64("debug flags"));
        return Records.make("vCPU state", () -> new VcpuState(regs, sregs, fpu, new Xsave(xsave), xcrs, msrs,
                new LapicState(lapic), mp, events, debug));
    }

    private static void writeRegs(StateWriter w, Regs r) {
        for (long v : new long[] {r.rax(), r.rbx(), r.rcx(), r.rdx(), r.rsi(), r.rdi(), r.rsp(), r.rbp(), r.r8(), r.r9(),
                r.r10(), r.r11(), r.r12(), r.r13(), r.r14(), r.r15(), r.rip(), r.rflags()}) {
            w.u64(v);
        }
    }

    private static Regs readRegs(StateReader r) throws SnapshotFormatException {
        long[] v = new long[18];
        for (int i = 0; i < v.length; i++) {
            v[i] = r.u64("general register");
        }
        return new Regs(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13], v[14],
                v[15], v[16], v[17]);
    }

    private static void writeSregs(StateWriter w, Sregs s) {
        for (Segment seg : List.of(s.cs(), s.ds(), s.es(), s.fs(), s.gs(), s.ss(), s.tr(), s.ldt())) {
            w.u64(seg.base()).u32(seg.limit()).u16(seg.selector()).u8(seg.type()).bool(seg.present()).u8(seg.dpl())
                    .bool(seg.db()).bool(seg.s()).bool(seg.l()).bool(seg.g()).bool(seg.avl()).bool(seg.unusable());
        }
        for (DescriptorTable t : List.of(s.gdt(), s.idt())) {
            w.u64(t.base()).u16(t.limit());
        }
        for (long v : new long[] {s.cr0(), s.cr2(), s.cr3(), s.cr4(), s.cr8(), s.efer(), s.apicBase()}) {
            w.u64(v);
        }
        long[] bitmap = s.interruptBitmap();
        w.u32(bitmap.length);
        for (long b : bitmap) {
            w.u64(b);
        }
    }

    private static Sregs readSregs(StateReader r) throws SnapshotFormatException {
        Segment[] seg = new Segment[8];
        for (int i = 0; i < seg.length; i++) {
            long base = r.u64("segment base");
            int limit = r.u32("segment limit");
            int selector = r.u16("segment selector");
            int type = r.u8("segment type");
            boolean present = r.bool("segment present");
            int dpl = r.u8("segment dpl");
            boolean db = r.bool("segment db");
            boolean s = r.bool("segment s");
            boolean l = r.bool("segment l");
            boolean g = r.bool("segment g");
            boolean avl = r.bool("segment avl");
            boolean unusable = r.bool("segment unusable");
            seg[i] = Records.make("segment", () -> new Segment(base, limit, selector, type, present, dpl, db, s, l, g, avl,
                    unusable));
        }
        DescriptorTable[] tables = new DescriptorTable[2];
        for (int i = 0; i < 2; i++) {
            long base = r.u64("descriptor table base");
            int limit = r.u16("descriptor table limit");
            tables[i] = new DescriptorTable(base, limit);
        }
        long[] c = new long[7];
        for (int i = 0; i < c.length; i++) {
            c[i] = r.u64("control register");
        }
        int n = r.count("interrupt bitmap word", 4);
        long[] bitmap = new long[n];
        for (int i = 0; i < n; i++) {
            bitmap[i] = r.u64("interrupt bitmap");
        }
        return Records.make("special registers", () -> new Sregs(seg[0], seg[1], seg[2], seg[3], seg[4], seg[5], seg[6],
                seg[7], tables[0], tables[1], c[0], c[1], c[2], c[3], c[4], c[5], c[6], bitmap));
    }

    private static void writeFpu(StateWriter w, Fpu f) {
        w.bytes(f.fpr()).u16(f.fcw()).u16(f.fsw()).u8(f.ftwx()).u16(f.lastOpcode()).u64(f.lastIp()).u64(f.lastDp())
                .bytes(f.xmm()).u32(f.mxcsr());
    }

    private static Fpu readFpu(StateReader r) throws SnapshotFormatException {
        byte[] fpr = r.bytesExactly("x87 registers", 128);
        int fcw = r.u16("fcw");
        int fsw = r.u16("fsw");
        int ftwx = r.u8("ftwx");
        int opcode = r.u16("last opcode");
        long ip = r.u64("last ip");
        long dp = r.u64("last dp");
        byte[] xmm = r.bytesExactly("xmm registers", 256);
        int mxcsr = r.u32("mxcsr");
        return new Fpu(fpr, fcw, fsw, ftwx, opcode, ip, dp, xmm, mxcsr);
    }

    private static void writeEvents(StateWriter w, VcpuEvents e) {
        VcpuEvents.Exception x = e.exception();
        w.bool(x.injected()).u8(x.nr()).bool(x.hasErrorCode()).bool(x.pending()).u32(x.errorCode());
        VcpuEvents.Interrupt i = e.interrupt();
        w.bool(i.injected()).u8(i.nr()).bool(i.soft()).u8(i.shadow());
        VcpuEvents.Nmi n = e.nmi();
        w.bool(n.injected()).bool(n.pending()).bool(n.masked());
        w.u32(e.sipiVector()).u32(e.flags());
        VcpuEvents.Smi s = e.smi();
        w.bool(s.smm()).bool(s.pending()).bool(s.smmInsideNmi()).bool(s.latchedInit());
        w.bool(e.tripleFaultPending()).bool(e.exceptionHasPayload()).u64(e.exceptionPayload());
    }

    private static VcpuEvents readEvents(StateReader r) throws SnapshotFormatException {
        VcpuEvents.Exception x = new VcpuEvents.Exception(r.bool("exception injected"), r.u8("exception"),
                r.bool("exception has error code"), r.bool("exception pending"), r.u32("exception error code"));
        VcpuEvents.Interrupt i = new VcpuEvents.Interrupt(r.bool("interrupt injected"), r.u8("interrupt"),
                r.bool("interrupt soft"), r.u8("interrupt shadow"));
        VcpuEvents.Nmi n = new VcpuEvents.Nmi(r.bool("nmi injected"), r.bool("nmi pending"), r.bool("nmi masked"));
        int sipi = r.u32("sipi vector");
        int flags = r.u32("event flags");
        VcpuEvents.Smi s = new VcpuEvents.Smi(r.bool("smm"), r.bool("smi pending"), r.bool("smm inside nmi"),
                r.bool("latched init"));
        boolean triple = r.bool("triple fault pending");
        boolean hasPayload = r.bool("exception has payload");
        long payload = r.u64("exception payload");
        return new VcpuEvents(x, i, n, sipi, flags, s, triple, hasPayload, payload);
    }

    static void writeCpuid(StateWriter w, List<CpuidEntry> entries) {
        w.u32(entries.size());
        for (CpuidEntry e : entries) {
            w.u32(e.function()).u32(e.index()).u32(e.flags()).u32(e.eax()).u32(e.ebx()).u32(e.ecx()).u32(e.edx());
        }
    }

    static List<CpuidEntry> readCpuid(StateReader r) throws SnapshotFormatException {
        int n = r.count("cpuid entry", MAX_CPUID);
        List<CpuidEntry> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(new CpuidEntry(r.u32("cpuid function"), r.u32("cpuid index"), r.u32("cpuid flags"), r.u32("eax"),
                    r.u32("ebx"), r.u32("ecx"), r.u32("edx")));
        }
        return out;
    }

    // ---- VM

    static void write(StateWriter w, MachineState m) {
        for (IrqchipState chip : List.of(m.picMaster(), m.picSlave(), m.ioapic())) {
            w.bytes(chip.data());
        }
        w.bytes(m.pit().raw());
        ClockData c = m.clock();
        w.u64(c.clock()).u32(c.flags()).u64(c.realtime()).u64(c.hostTsc());
    }

    static MachineState readMachine(StateReader r) throws SnapshotFormatException {
        IrqchipState master = new IrqchipState(IrqchipState.PIC_MASTER, r.bytesExactly("master PIC", IrqchipState.DATA_SIZE));
        IrqchipState slave = new IrqchipState(IrqchipState.PIC_SLAVE, r.bytesExactly("slave PIC", IrqchipState.DATA_SIZE));
        IrqchipState ioapic = new IrqchipState(IrqchipState.IOAPIC, r.bytesExactly("IOAPIC", IrqchipState.DATA_SIZE));
        PitState pit = new PitState(r.bytesExactly("PIT", PitState.SIZE));
        ClockData clock = new ClockData(r.u64("kvmclock"), r.u32("kvmclock flags"), r.u64("kvmclock realtime"),
                r.u64("kvmclock host tsc"));
        return new MachineState(master, slave, ioapic, pit, clock);
    }
}
