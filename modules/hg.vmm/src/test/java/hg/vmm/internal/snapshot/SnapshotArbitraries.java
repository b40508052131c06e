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
import hg.vmm.internal.legacy.I8042State;
import hg.vmm.internal.legacy.Serial16550;
import hg.vmm.internal.legacy.SerialState;
import hg.vmm.internal.virtio.QueueState;
import hg.vmm.internal.virtio.TransportState;
import hg.vmm.internal.virtio.block.DiskIdentity;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Tuple;

import java.util.List;
import java.util.Random;

/**
 * Valid values of every record a snapshot holds, across the whole range each field can take.
 * Large byte areas (XSAVE, LAPIC page, irqchips, UART input) come from a seed rather than byte
 * by byte: jqwik would spend its time generating and shrinking thousands of bytes that the
 * codec treats as one opaque block anyway.
 */
final class SnapshotArbitraries {
    private SnapshotArbitraries() {
    }

    static Arbitrary<Integer> u8() {
        return Arbitraries.integers().between(0, 0xff);
    }

    static Arbitrary<Integer> u16() {
        return Arbitraries.integers().between(0, 0xffff);
    }

    static Arbitrary<Boolean> bool() {
        return Arbitraries.of(true, false);
    }

    /** Zeros, ones, noise or mostly zeros: the shapes real register pages and XSAVE areas have. */
    static byte[] fill(int n, long seed, int kind) {
        byte[] b = new byte[n];
        Random r = new Random(seed);
        switch (kind) {
            case 0 -> {
            }
            case 1 -> java.util.Arrays.fill(b, (byte) 0xff);
            case 2 -> r.nextBytes(b);
            default -> {
                for (int i = 0; i < n / 16 + 1 && n > 0; i++) {
                    b[r.nextInt(n)] = (byte) r.nextInt(256);
                }
            }
        }
        return b;
    }

    static Arbitrary<byte[]> blob(Arbitrary<Integer> size) {
        return Combinators.combine(size, Arbitraries.longs(), Arbitraries.integers().between(0, 3))
                .as(SnapshotArbitraries::fill);
    }

    static Arbitrary<byte[]> blob(int size) {
        return blob(Arbitraries.just(size));
    }

    /**
     * Valid Unicode of at most {@code maxChars} UTF-16 chars: ASCII mostly, any other plane too,
     * never a lone surrogate (which UTF-8 cannot carry).
     */
    static Arbitrary<String> text(int maxChars) {
        Arbitrary<Integer> codePoint = Arbitraries.frequencyOf(
                Tuple.of(8, Arbitraries.integers().between(0x20, 0x7e)),
                Tuple.of(1, Arbitraries.integers().between(0, 0x7f)),
                Tuple.of(2, Arbitraries.integers().between(0x80, 0xffff).filter(c -> c < 0xd800 || c > 0xdfff)),
                Tuple.of(1, Arbitraries.integers().between(0x10000, Character.MAX_CODE_POINT)));
        return codePoint.list().ofMaxSize(maxChars).map(cps -> {
            StringBuilder s = new StringBuilder();
            for (int cp : cps) {
                if (s.length() + Character.charCount(cp) > maxChars) {
                    break;
                }
                s.appendCodePoint(cp);
            }
            return s.toString();
        });
    }

    // ---- hg.kvm

    static Arbitrary<Regs> regs() {
        return Arbitraries.longs().array(long[].class).ofSize(18).map(v -> new Regs(v[0], v[1], v[2], v[3], v[4], v[5],
                v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13], v[14], v[15], v[16], v[17]));
    }

    static Arbitrary<Segment> segment() {
        // Seven flags as one 7-bit number: jqwik combines at most eight values at once.
        return Combinators.combine(Arbitraries.longs(), Arbitraries.integers(), u16(),
                        Arbitraries.integers().between(0, 0xf), Arbitraries.integers().between(0, 3),
                        Arbitraries.integers().between(0, 0x7f))
                .as((base, limit, selector, type, dpl, f) -> new Segment(base, limit, selector, type, (f & 1) != 0, dpl,
                        (f & 2) != 0, (f & 4) != 0, (f & 8) != 0, (f & 16) != 0, (f & 32) != 0, (f & 64) != 0));
    }

    static Arbitrary<DescriptorTable> descriptorTable() {
        return Combinators.combine(Arbitraries.longs(), u16()).as(DescriptorTable::new);
    }

    static Arbitrary<Sregs> sregs() {
        return Combinators.combine(segment().list().ofSize(8), descriptorTable(), descriptorTable(),
                        Arbitraries.longs().array(long[].class).ofSize(7),
                        Arbitraries.longs().array(long[].class).ofSize(4))
                .as((s, gdt, idt, c, bitmap) -> new Sregs(s.get(0), s.get(1), s.get(2), s.get(3), s.get(4), s.get(5),
                        s.get(6), s.get(7), gdt, idt, c[0], c[1], c[2], c[3], c[4], c[5], c[6], bitmap));
    }

    static Arbitrary<Fpu> fpu() {
        return Combinators.combine(blob(128), u16(), u16(), u8(), u16(), Arbitraries.longs(), Arbitraries.longs(),
                        Combinators.combine(blob(256), Arbitraries.integers()).as(Tuple::of))
                .as((fpr, fcw, fsw, ftwx, op, ip, dp, xmmMxcsr) -> new Fpu(fpr, fcw, fsw, ftwx, op, ip, dp, xmmMxcsr.get1(),
                        xmmMxcsr.get2()));
    }

    /** 4 KiB (plain KVM_GET_XSAVE) to 16 KiB (XSAVE2 with AMX and room to spare), in 4-byte steps. */
    static Arbitrary<Xsave> xsave() {
        return blob(Arbitraries.integers().between(Xsave.LEGACY_SIZE / 4, (16 << 10) / 4).map(n -> n * 4)).map(Xsave::new);
    }

    static Arbitrary<Xcr> xcr() {
        return Combinators.combine(Arbitraries.integers(), Arbitraries.longs()).as(Xcr::new);
    }

    static Arbitrary<MsrEntry> msr() {
        return Combinators.combine(Arbitraries.integers(), Arbitraries.longs()).as(MsrEntry::new);
    }

    static Arbitrary<LapicState> lapic() {
        return blob(LapicState.SIZE).map(LapicState::new);
    }

    static Arbitrary<VcpuEvents> events() {
        Arbitrary<VcpuEvents.Exception> exception = Combinators.combine(bool(), u8(), bool(), bool(), Arbitraries.integers())
                .as(VcpuEvents.Exception::new);
        Arbitrary<VcpuEvents.Interrupt> interrupt = Combinators.combine(bool(), u8(), bool(), u8())
                .as(VcpuEvents.Interrupt::new);
        Arbitrary<VcpuEvents.Nmi> nmi = Combinators.combine(bool(), bool(), bool()).as(VcpuEvents.Nmi::new);
        Arbitrary<VcpuEvents.Smi> smi = Combinators.combine(bool(), bool(), bool(), bool()).as(VcpuEvents.Smi::new);
        Arbitrary<Tuple.Tuple3<Boolean, Boolean, Long>> tail = Combinators.combine(bool(), bool(), Arbitraries.longs())
                .as(Tuple::of);
        return Combinators.combine(exception, interrupt, nmi, Arbitraries.integers(), Arbitraries.integers(), smi, tail)
                .as((x, i, n, sipi, flags, s, t) -> new VcpuEvents(x, i, n, sipi, flags, s, t.get1(), t.get2(), t.get3()));
    }

    static Arbitrary<DebugRegs> debugRegs() {
        return Combinators.combine(Arbitraries.longs().array(long[].class).ofSize(4), Arbitraries.longs(),
                Arbitraries.longs(), Arbitraries.longs()).as(DebugRegs::new);
    }

    static Arbitrary<IrqchipState> irqchip(int chip) {
        return blob(IrqchipState.DATA_SIZE).map(d -> new IrqchipState(chip, d));
    }

    static Arbitrary<PitState> pit() {
        return blob(PitState.SIZE).map(PitState::new);
    }

    static Arbitrary<ClockData> clock() {
        return Combinators.combine(Arbitraries.longs(), Arbitraries.integers(), Arbitraries.longs(), Arbitraries.longs())
                .as(ClockData::new);
    }

    static Arbitrary<CpuidEntry> cpuidEntry() {
        return Arbitraries.integers().array(int[].class).ofSize(7)
                .map(v -> new CpuidEntry(v[0], v[1], v[2], v[3], v[4], v[5], v[6]));
    }

    // ---- hg.vmm

    static Arbitrary<VcpuState> vcpuState() {
        return Combinators.combine(regs(), sregs(), fpu(), xsave(), xcr().list().ofMaxSize(KvmStateCodec.MAX_XCRS),
                        msr().list().ofMaxSize(64), lapic(),
                        Combinators.combine(Arbitraries.integers().between(0, KvmStateCodec.MAX_MP_STATE), events(),
                                debugRegs()).as(Tuple::of))
                .as((regs, sregs, fpu, xsave, xcrs, msrs, lapic, rest) -> new VcpuState(regs, sregs, fpu, xsave, xcrs, msrs,
                        lapic, rest.get1(), rest.get2(), rest.get3()));
    }

    static Arbitrary<MachineState> machineState() {
        return Combinators.combine(irqchip(IrqchipState.PIC_MASTER), irqchip(IrqchipState.PIC_SLAVE),
                irqchip(IrqchipState.IOAPIC), pit(), clock()).as(MachineState::new);
    }

    static Arbitrary<SerialState> serial() {
        Arbitrary<Integer> inputSize = Arbitraries.frequencyOf(
                Tuple.of(3, Arbitraries.integers().between(0, 64)),
                Tuple.of(1, Arbitraries.integers().between(0, Serial16550.INPUT_LIMIT)),
                Tuple.of(1, Arbitraries.just(Serial16550.INPUT_LIMIT)));
        return Combinators.combine(u8().array(int[].class).ofSize(8), u16(), bool(), bool(), blob(inputSize))
                .as((r, divisor, thr, irq, input) -> new SerialState(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], divisor,
                        thr, irq, input));
    }

    static Arbitrary<I8042State> i8042() {
        return Combinators.combine(u8(), u8(), u8(), u8(), Arbitraries.bytes().array(byte[].class).ofMaxSize(16))
                .as(I8042State::new);
    }

    static Arbitrary<QueueState> queue() {
        return Combinators.combine(Arbitraries.integers(), bool(), Arbitraries.longs(), Arbitraries.longs(),
                        Arbitraries.longs(), u16(), u16(), Combinators.combine(u16(), bool()).as(Tuple::of))
                .as((size, ready, desc, avail, used, nextAvail, nextUsed, s) -> new QueueState(size, ready, desc, avail, used,
                        nextAvail, nextUsed, s.get1(), s.get2()));
    }

    static Arbitrary<TransportState> transport() {
        Arbitrary<Tuple.Tuple4<Integer, Integer, String, List<QueueState>>> tail = Combinators.combine(
                Arbitraries.integers(), Arbitraries.integers(), text(TransportState.FAILURE_CHARS),
                queue().list().ofMaxSize(8)).as(Tuple::of);
        return Combinators.combine(Arbitraries.integers(),
                        Arbitraries.bytes().array(byte[].class).ofMaxSize(TransportState.CONFIG_BYTES), u8(),
                        Arbitraries.integers(), Arbitraries.integers(), Arbitraries.longs(), Arbitraries.integers(), tail)
                .as((type, config, status, dfs, drfs, features, queueSel, t) -> new TransportState(type, config, status, dfs,
                        drfs, features, queueSel, t.get1(), t.get2(), t.get3(), t.get4()));
    }

    static Arbitrary<DiskIdentity> diskIdentity() {
        return Arbitraries.longs().array(long[].class).ofSize(5)
                .map(v -> new DiskIdentity(v[0], v[1], v[2], v[3], v[4]));
    }

    static Arbitrary<VmSnapshot.Disk> disk() {
        Arbitrary<String> device = Arbitraries.strings().ascii().ofMinLength(1).ofMaxLength(16);
        return Combinators.combine(device, text(256), bool(), diskIdentity()).as(VmSnapshot.Disk::new);
    }

    static Arbitrary<VmSnapshot.Machine> machine(int vcpus) {
        return Combinators.combine(text(4096), text(4096), Arbitraries.longs(), disk().list().ofMaxSize(4),
                        Arbitraries.integers().between(0, 1 << 16), bool())
                .as((kernel, cmdline, memory, disks, netSlot, vhost) -> new VmSnapshot.Machine(kernel, cmdline, memory, vcpus,
                        disks, netSlot, vhost));
    }

    static Arbitrary<VmSnapshot.Vcpu> vcpu() {
        return Combinators.combine(cpuidEntry().list().ofMaxSize(80), vcpuState()).as(VmSnapshot.Vcpu::new);
    }

    /** A whole VM: 1 to 8 vCPUs, 0 to 4 disks, 0 to 6 virtio devices. */
    static Arbitrary<VmSnapshot> snapshot() {
        return Arbitraries.integers().between(1, 8).flatMap(n -> Combinators.combine(machine(n), machineState(),
                vcpu().list().ofSize(n), serial(), i8042(), transport().list().ofMaxSize(6)).as(VmSnapshot::new));
    }
}
