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
import hg.vmm.internal.legacy.SerialState;
import hg.vmm.internal.virtio.QueueState;
import hg.vmm.internal.virtio.TransportState;
import hg.vmm.internal.virtio.block.DiskIdentity;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The codec's ceilings, field by field: every count and length at its maximum reads back, one
 * more is refused at that field, and a hostile 32-bit value written over any offset of a small
 * state is refused (or read exactly) without allocating what it claims.
 */
class SnapshotCodecBoundsTest {

    static VcpuState vcpuState(int xcrs, int msrs) {
        Segment seg = new Segment(0x1000, 0xfffff, 0x10, 0xb, true, 0, false, true, true, true, false, false);
        Sregs sregs = new Sregs(seg, seg, seg, seg, seg, seg, seg, seg, new DescriptorTable(0x500, 0x27),
                new DescriptorTable(0x520, 0xfff), 0x80050033L, 0, 0x9000, 0x20, 0, 0x500, 0xfee00900L, new long[] {1, 2, 3, 4});
        Regs regs = Regs.builder().rip(0x100000).rsp(0x8000).build();
        byte[] xsave = new byte[Xsave.LEGACY_SIZE];
        xsave[0] = 0x7f;
        List<Xcr> x = IntStream.range(0, xcrs).mapToObj(i -> new Xcr(i, 7)).toList();
        List<MsrEntry> m = IntStream.range(0, msrs).mapToObj(i -> new MsrEntry(0x10 + i, i)).toList();
        VcpuEvents events = new VcpuEvents(new VcpuEvents.Exception(true, 14, true, false, 2),
                new VcpuEvents.Interrupt(false, 0x30, false, 1), new VcpuEvents.Nmi(false, true, false), 0, 0x3,
                new VcpuEvents.Smi(false, false, false, false), false, true, 0xdead);
        return new VcpuState(regs, sregs, Fpu.initial(), new Xsave(xsave), x, m, new LapicState(new byte[LapicState.SIZE]),
                0, events, new DebugRegs(new long[] {1, 2, 3, 4}, 0xffff0ff0L, 0x400, 0));
    }

    static MachineState machineState() {
        return new MachineState(new IrqchipState(IrqchipState.PIC_MASTER, new byte[IrqchipState.DATA_SIZE]),
                new IrqchipState(IrqchipState.PIC_SLAVE, new byte[IrqchipState.DATA_SIZE]),
                new IrqchipState(IrqchipState.IOAPIC, new byte[IrqchipState.DATA_SIZE]), new PitState(new byte[PitState.SIZE]),
                new ClockData(123456789, ClockData.FLAG_REALTIME, 42, 7));
    }

    static QueueState queue(int i) {
        return new QueueState(256, true, 0x10000 + i, 0x11000, 0x12000, 3, 2, 1, true);
    }

    static TransportState device(int queues) {
        return new TransportState(2, new byte[] {0, 0, 1, 0, 0, 0, 0, 0}, 0xf, 1, 0, 1L << 32, 0, 1, 3, "gone",
                IntStream.range(0, queues).mapToObj(SnapshotCodecBoundsTest::queue).toList());
    }

    static VmSnapshot.Disk disk(int i) {
        return new VmSnapshot.Disk("vd" + (char) ('a' + i % 26), "vda.img", i % 2 == 0,
                new DiskIdentity(1 << 20, 1, 2, 3, 4 + i));
    }

    /** A state where every list has something in it, kept small so every offset can be tried. */
    static VmSnapshot small() {
        List<CpuidEntry> cpuid = List.of(new CpuidEntry(0, 0, 0, 0xd, 1, 2, 3), new CpuidEntry(7, 0, 1, 0, 0x29c6fbf, 0, 0));
        return new VmSnapshot(new VmSnapshot.Machine("bzImage", "console=ttyS0", 256 << 20, 1, List.of(disk(0)), 1, false),
                machineState(), List.of(new VmSnapshot.Vcpu(cpuid, vcpuState(1, 2))),
                new SerialState(1, 2, 3, 3, 8, 0x60, 0xb0, 0, 1, true, false, new byte[] {'l', 's', '\r'}),
                new I8042State(0x1c, 0x47, 1, 0, new byte[] {(byte) 0xfa}), List.of(device(1)));
    }

    @Test
    void everyCountAtItsCeilingReadsBack() throws Exception {
        List<CpuidEntry> cpuid = IntStream.range(0, KvmStateCodec.MAX_CPUID).mapToObj(i -> new CpuidEntry(i, 0, 0, i, i, i, i))
                .toList();
        // One vCPU at every per-vCPU ceiling, the rest small: all 288 at theirs would pass 16 MiB.
        List<VmSnapshot.Vcpu> vcpus = new ArrayList<>(Collections.nCopies(SnapshotCodec.MAX_VCPUS,
                new VmSnapshot.Vcpu(List.of(), vcpuState(0, 0))));
        vcpus.set(0, new VmSnapshot.Vcpu(cpuid, vcpuState(KvmStateCodec.MAX_XCRS, KvmStateCodec.MAX_MSRS)));
        List<VmSnapshot.Disk> disks = IntStream.range(0, SnapshotCodec.MAX_DISKS).mapToObj(SnapshotCodecBoundsTest::disk)
                .toList();
        List<TransportState> devices = Collections.nCopies(SnapshotCodec.MAX_DEVICES, device(SnapshotCodec.MAX_QUEUES));
        String text = "é".repeat(SnapshotCodec.MAX_TEXT / 2);
        VmSnapshot s = new VmSnapshot(new VmSnapshot.Machine(text, text, -1, SnapshotCodec.MAX_VCPUS, disks, 1 << 16, true),
                machineState(), vcpus, small().serial(), small().i8042(), devices);
        byte[] encoded = SnapshotCodec.encode(s);
        assertEquals(s, SnapshotCodec.decode(encoded));
        assertEquals(s, SnapshotCodec.decode(SnapshotFile.unframe(SnapshotFile.frame(encoded))));
    }

    @Test
    void oneMoreThanACeilingIsRefusedAtItsField() {
        VmSnapshot s = small();
        var m = s.vm();
        List<VmSnapshot.Disk> disks = IntStream.range(0, SnapshotCodec.MAX_DISKS + 1)
                .mapToObj(SnapshotCodecBoundsTest::disk).toList();
        refusedNaming("disk count", new VmSnapshot(new VmSnapshot.Machine(m.kernel(), m.cmdline(), m.memoryBytes(), 1, disks,
                m.netSlot(), m.vhost()), s.machine(), s.vcpus(), s.serial(), s.i8042(), s.devices()));
        refusedNaming("kernel path length", new VmSnapshot(new VmSnapshot.Machine("k".repeat(SnapshotCodec.MAX_TEXT + 1),
                m.cmdline(), m.memoryBytes(), 1, m.disks(), m.netSlot(), m.vhost()), s.machine(), s.vcpus(), s.serial(),
                s.i8042(), s.devices()));
        refusedNaming("msr count", new VmSnapshot(m, s.machine(), List.of(new VmSnapshot.Vcpu(List.of(),
                vcpuState(0, KvmStateCodec.MAX_MSRS + 1))), s.serial(), s.i8042(), s.devices()));
        refusedNaming("xcr count", new VmSnapshot(m, s.machine(), List.of(new VmSnapshot.Vcpu(List.of(),
                vcpuState(KvmStateCodec.MAX_XCRS + 1, 0))), s.serial(), s.i8042(), s.devices()));
        List<CpuidEntry> cpuid = Collections.nCopies(KvmStateCodec.MAX_CPUID + 1, new CpuidEntry(1, 0, 0, 0, 0, 0, 0));
        refusedNaming("cpuid entry count", new VmSnapshot(m, s.machine(), List.of(new VmSnapshot.Vcpu(cpuid,
                vcpuState(0, 0))), s.serial(), s.i8042(), s.devices()));
        refusedNaming("virtio device count", new VmSnapshot(m, s.machine(), s.vcpus(), s.serial(), s.i8042(),
                Collections.nCopies(SnapshotCodec.MAX_DEVICES + 1, device(0))));
        refusedNaming("queue count", new VmSnapshot(m, s.machine(), s.vcpus(), s.serial(), s.i8042(),
                List.of(device(SnapshotCodec.MAX_QUEUES + 1))));
        refusedNaming("vCPU count", new VmSnapshot(new VmSnapshot.Machine(m.kernel(), m.cmdline(), m.memoryBytes(),
                SnapshotCodec.MAX_VCPUS + 1, m.disks(), m.netSlot(), m.vhost()), s.machine(), s.vcpus(), s.serial(), s.i8042(),
                s.devices()));
        refusedNaming("vCPUs, its machine", new VmSnapshot(new VmSnapshot.Machine(m.kernel(), m.cmdline(), m.memoryBytes(),
                2, m.disks(), m.netSlot(), m.vhost()), s.machine(), s.vcpus(), s.serial(), s.i8042(), s.devices()));
    }

    static void refusedNaming(String field, VmSnapshot s) {
        try {
            SnapshotCodec.decode(SnapshotCodec.encode(s));
            throw new AssertionError("accepted a state over the " + field + " ceiling");
        } catch (SnapshotFormatException e) {
            SnapshotCodecPropertiesTest.oneLine(e);
            assertTrue(e.getMessage().contains(field), () -> "refused for another reason: " + e.getMessage());
        }
    }

    /**
     * 2^31 and its neighbours over every offset: whichever count, length or tag they land on is
     * refused there (the message names it), before anything of that size is allocated.
     */
    @Test
    void hostileWordsAtEveryOffsetAreRefusedWhereTheyLand() {
        byte[] p = SnapshotCodec.encode(small());
        long[] values = {0x8000_0000L, 0xffff_ffffL, 0x7fff_ffffL, 0x1_0000L, 2};
        Set<String> refusals = new TreeSet<>();
        for (int at = 0; at < p.length; at++) {
            if (insideARun(p, at)) {
                continue;  // inside a register page or a run of zero registers: no count or length lies there
            }
            for (long v : values) {
                byte[] d = p.clone();
                for (int i = 0; i < 4 && at + i < d.length; i++) {
                    d[at + i] = (byte) (v >>> (8 * i));
                }
                try {
                    assertArrayEquals(d, SnapshotCodec.encode(SnapshotCodec.decode(d)));
                } catch (SnapshotFormatException e) {
                    SnapshotCodecPropertiesTest.oneLine(e);
                    if (v == 0x8000_0000L && e.getMessage().contains(" is 2147483648, outside ")) {
                        refusals.add(e.getMessage().substring(0, e.getMessage().indexOf(" is 2147483648")));
                    }
                }
            }
        }
        List<String> expected = new ArrayList<>(List.of("kernel path length", "command line length", "vCPU count",
                "disk count", "disk device length", "disk file length", "network slot", "master PIC length", "slave PIC length",
                "IOAPIC length", "PIT length", "vCPU count", "cpuid entry count", "x87 registers length",
                "xmm registers length", "xsave area length", "xcr count", "msr count", "lapic length", "mp state",
                "interrupt bitmap word count", "UART input length", "i8042 output length", "virtio device count",
                "virtio config length", "device failure length", "queue count"));
        expected.removeAll(refusals);
        assertEquals(List.of(), expected, () -> "a 2^31 over these fields was not refused at them; refusals seen: " + refusals);
    }

    /**
     * Whether the bytes around {@code at} are all one value. Every count, length and tag of
     * {@link #small} is nonzero and unlike its neighbours, so none lies inside such a run, and
     * the sweep's list of refusals would show one that did.
     */
    static boolean insideARun(byte[] p, int at) {
        int from = Math.max(0, at - 8);
        int to = Math.min(p.length, at + 12);
        for (int i = from; i < to; i++) {
            if (p[i] != p[from]) {
                return false;
            }
        }
        return true;
    }

    @Test
    void theStateOfSmallReadsBackAndDiffersFromAnyOtherVcpuState() throws Exception {
        VmSnapshot s = small();
        assertEquals(s, SnapshotCodec.decode(SnapshotCodec.encode(s)));
        assertNotEquals(vcpuState(1, 2), vcpuState(1, 3));
    }
}
