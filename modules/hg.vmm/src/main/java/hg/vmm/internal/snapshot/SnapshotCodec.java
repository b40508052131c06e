package hg.vmm.internal.snapshot;

import hg.vmm.internal.legacy.I8042State;
import hg.vmm.internal.legacy.SerialState;
import hg.vmm.internal.virtio.QueueState;
import hg.vmm.internal.virtio.TransportState;
import hg.vmm.internal.virtio.block.DiskIdentity;

import java.util.ArrayList;
import java.util.List;

/**
 * A {@link VmSnapshot} as the payload of a state file, and back. Sections come in a fixed
 * order, each opened by a tag, so a reader that meets another writer's layout says where.
 * Decoding trusts nothing: counts and lengths are bounded before anything is allocated, and
 * every value goes through its record's checks.
 */
public final class SnapshotCodec {
    static final int TAG_MACHINE = 0x4d434846;  // each tag is four letters in the file
    static final int TAG_KVM_VM = 0x4d56564b;
    static final int TAG_VCPU = 0x55504356;
    static final int TAG_LEGACY = 0x59434c47;
    static final int TAG_VIRTIO = 0x4f495456;

    static final int MAX_VCPUS = 288;
    static final int MAX_DISKS = 64;
    static final int MAX_DEVICES = 64;
    static final int MAX_QUEUES = 64;
    static final int MAX_TEXT = 16 << 10;

    private SnapshotCodec() {
    }

    public static byte[] encode(VmSnapshot s) {
        StateWriter w = new StateWriter();
        w.u32(TAG_MACHINE);
        VmSnapshot.Machine m = s.vm();
        w.string(m.kernel()).string(m.cmdline()).u64(m.memoryBytes()).u32(m.vcpuCount());
        w.u32(m.disks().size());
        for (VmSnapshot.Disk d : m.disks()) {
            DiskIdentity id = d.identity();
            w.string(d.device()).string(d.file()).bool(d.readOnly())
                    .u64(id.size()).u64(id.mtimeNanos()).u64(id.ctimeNanos()).u64(id.device()).u64(id.inode());
        }
        w.u32(m.netSlot()).bool(m.vhost()).u64(m.clockZeroAt());

        w.u32(TAG_KVM_VM);
        KvmStateCodec.write(w, s.machine());
        w.u32(s.vcpus().size());
        for (VmSnapshot.Vcpu v : s.vcpus()) {
            w.u32(TAG_VCPU);
            KvmStateCodec.writeCpuid(w, v.cpuid());
            KvmStateCodec.write(w, v.state());
        }

        w.u32(TAG_LEGACY);
        SerialState u = s.serial();
        w.u8(u.ier()).u8(u.iir()).u8(u.fcr()).u8(u.lcr()).u8(u.mcr()).u8(u.lsr()).u8(u.msr()).u8(u.scr()).u16(u.divisor())
                .bool(u.thrPending()).bool(u.irqPending()).bytes(u.pendingInput());
        I8042State k = s.i8042();
        w.u8(k.status()).u8(k.ctr()).u8(k.outputPort()).u8(k.pendingCommand()).bytes(k.output());

        w.u32(TAG_VIRTIO);
        w.u32(s.devices().size());
        for (TransportState t : s.devices()) {
            w.u32(t.deviceType()).bytes(t.config()).u8(t.status()).u32(t.deviceFeaturesSel()).u32(t.driverFeaturesSel())
                    .u64(t.driverFeatures()).u32(t.queueSel()).u32(t.interruptStatus()).u32(t.configGeneration())
                    .string(t.failure());
            w.u32(t.queues().size());
            for (QueueState q : t.queues()) {
                w.u32(q.size()).bool(q.ready()).u64(q.descTable()).u64(q.availRing()).u64(q.usedRing())
                        .u16(q.nextAvail()).u16(q.nextUsed()).u16(q.signalledUsed()).bool(q.signalledValid());
            }
        }
        return w.toByteArray();
    }

    public static VmSnapshot decode(byte[] payload) throws SnapshotFormatException {
        StateReader r = new StateReader(payload);
        tag(r, TAG_MACHINE, "machine");
        String kernel = r.string("kernel path", MAX_TEXT);
        String cmdline = r.string("command line", MAX_TEXT);
        long memory = r.u64("memory size");
        int vcpuCount = r.u32("vCPU count", 1, MAX_VCPUS);
        int nd = r.count("disk", MAX_DISKS);
        List<VmSnapshot.Disk> disks = new ArrayList<>();
        for (int i = 0; i < nd; i++) {
            String device = r.string("disk device", 16);
            String file = r.string("disk file", MAX_TEXT);
            boolean ro = r.bool("disk read-only");
            DiskIdentity id = new DiskIdentity(r.u64("disk size"), r.u64("disk mtime"), r.u64("disk ctime"),
                    r.u64("disk device number"), r.u64("disk inode"));
            disks.add(new VmSnapshot.Disk(device, file, ro, id));
        }
        int netSlot = r.u32("network slot", 0, 1 << 16);
        boolean vhost = r.bool("vhost");
        long clockZeroAt = r.u64("kvmclock zero time");
        VmSnapshot.Machine machine = new VmSnapshot.Machine(kernel, cmdline, memory, vcpuCount, disks, netSlot, vhost,
                clockZeroAt);

        tag(r, TAG_KVM_VM, "KVM VM state");
        var kvmVm = KvmStateCodec.readMachine(r);
        int nv = r.count("vCPU", MAX_VCPUS);
        if (nv != vcpuCount) {
            throw new SnapshotFormatException("the state has " + nv + " vCPUs, its machine " + vcpuCount);
        }
        List<VmSnapshot.Vcpu> vcpus = new ArrayList<>();
        for (int i = 0; i < nv; i++) {
            tag(r, TAG_VCPU, "vCPU " + i);
            vcpus.add(new VmSnapshot.Vcpu(KvmStateCodec.readCpuid(r), KvmStateCodec.readVcpu(r)));
        }

        tag(r, TAG_LEGACY, "legacy devices");
        int[] uart = new int[8];
        for (int i = 0; i < uart.length; i++) {
            uart[i] = r.u8("UART register");
        }
        int divisor = r.u16("UART divisor");
        boolean thr = r.bool("UART THR pending");
        boolean irq = r.bool("UART interrupt pending");
        byte[] input = r.bytes("UART input", 1 << 20);
        SerialState serial = Records.make("UART", () -> new SerialState(uart[0], uart[1], uart[2], uart[3], uart[4], uart[5],
                uart[6], uart[7], divisor, thr, irq, input));
        int[] kbd = {r.u8("i8042 status"), r.u8("i8042 command byte"), r.u8("i8042 output port"),
                r.u8("i8042 pending command")};
        byte[] out = r.bytes("i8042 output", 1 << 10);
        I8042State i8042 = Records.make("i8042", () -> new I8042State(kbd[0], kbd[1], kbd[2], kbd[3], out));

        tag(r, TAG_VIRTIO, "virtio devices");
        int nt = r.count("virtio device", MAX_DEVICES);
        List<TransportState> devices = new ArrayList<>();
        for (int i = 0; i < nt; i++) {
            devices.add(readTransport(r));
        }
        r.end();
        return new VmSnapshot(machine, kvmVm, vcpus, serial, i8042, devices);
    }

    private static TransportState readTransport(StateReader r) throws SnapshotFormatException {
        int type = r.u32("virtio device type");
        byte[] config = r.bytes("virtio config", TransportState.CONFIG_BYTES);
        int status = r.u8("virtio status");
        int dfs = r.u32("device features select");
        int drfs = r.u32("driver features select");
        long features = r.u64("driver features");
        int queueSel = r.u32("queue select");
        int interrupt = r.u32("interrupt status");
        int generation = r.u32("config generation");
        String failure = r.string("device failure", TransportState.FAILURE_CHARS * 4);
        int nq = r.count("queue", MAX_QUEUES);
        List<QueueState> queues = new ArrayList<>();
        for (int i = 0; i < nq; i++) {
            int size = r.u32("queue size");
            boolean ready = r.bool("queue ready");
            long desc = r.u64("descriptor table");
            long avail = r.u64("available ring");
            long used = r.u64("used ring");
            int nextAvail = r.u16("next avail");
            int nextUsed = r.u16("next used");
            int signalled = r.u16("signalled used");
            boolean signalledValid = r.bool("signalled valid");
            queues.add(new QueueState(size, ready, desc, avail, used, nextAvail, nextUsed, signalled, signalledValid));
        }
        return Records.make("virtio device", () -> new TransportState(type, config, status, dfs, drfs, features, queueSel,
                interrupt, generation, failure, queues));
    }

    private static void tag(StateReader r, int expected, String section) throws SnapshotFormatException {
        int t = r.u32(section + " tag");
        if (t != expected) {
            throw new SnapshotFormatException(String.format("expected the %s section, found tag 0x%08x", section, t));
        }
    }
}
