package hg.bench;

import hg.kvm.Kvm;
import hg.vmm.VmConfig;
import hg.vmm.VmManager;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * mem_per_vm_mib: how much the VMM's resident memory grows per additional idle VM.
 *
 * <p>hyper-gen: one JVM, one {@link VmManager}; VM 1 is created and its guest has gone idle
 * (its first exit recorded, then HLT), the resident memory is read; VMs 2..10 likewise, read
 * again. Per VM = (RSS - guest RAM resident) growth / 9, from /proc/self/smaps: guest RAM pages
 * touched by the guest or the loader are not the VMM's. The guest is {@code idle_guest.S}, 256
 * MiB, one vCPU, no disk. A warm-up round (10 VMs made and destroyed) comes first so class
 * loading and JIT-compiled code are not charged to the VMs.
 *
 * <p>Peer: vm_runner.c making 10 VMs the same way (each vCPU on its own thread, idle in HLT),
 * VmRSS minus the guest mappings' resident pages (mincore), growth from 1 to 10 VMs / 9. QEMU
 * microvm is not the peer here: it cannot run its guests on this machine's /dev/kvm (a PVM),
 * and the nested rig has no per-VM memory probe yet.
 */
final class MemPerVm implements Figure {
    static final String NAME = "mem_per_vm_mib";
    static final String UNIT = "MiB per idle VM";
    static final String PEER = "C KVM runner (gcc -O2), same set-up and guest";
    static final String GOAL = "< 3 MiB";
    static final int VMS = 10;
    static final long MEMORY = VmConfig.DEFAULT_MEMORY;
    /** idle_guest.S as the loader places it, and the page-table root hg.boot writes for a 64-bit entry. */
    static final Smaps.GuestSignature SIGNATURE = new Smaps.GuestSignature(MEMORY, 0x200000,
            new byte[] {(byte) 0xb8, 0, 0, (byte) 0xf0, (byte) 0xd0, (byte) 0xc7, 0, 1, 0, 0, 0, (byte) 0xfa, (byte) 0xf4,
                    (byte) 0xeb, (byte) 0xfc},
            hg.boot.X86Layout.PML4_ADDRESS, hg.boot.X86Layout.PDPT_ADDRESS | 3);

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Result measure(Options options) throws Exception {
        if (!Kvm.present()) {
            return Result.unmeasured(NAME, UNIT, PEER, GOAL, "/dev/kvm is absent on this host");
        }
        Path dir = options.out().resolve("peers");
        Path runner = Gcc.build("vm_runner.c", dir);
        Path guest = Gcc.buildGuest("idle_guest.S", "idle_guest.ld", dir);
        VmConfig config = VmConfig.of(guest, null).withMemory(MEMORY);
        int runs = options.quick() ? 3 : 7;
        double[] java = new double[runs], peer = new double[runs], guestKb = new double[runs];
        try (Confined side = Confined.forFigure(NAME, guest.getParent(), null, List.of())) {
            side.call(() -> javaRun(config)); // warm-up
            for (int i = 0; i < runs; i++) {
                double[] r = side.call(() -> javaRun(config));
                java[i] = r[0];
                guestKb[i] = r[1];
                peer[i] = peerRun(runner);
            }
        }
        Stats hg = Stats.of(java), c = Stats.of(peer), g = Stats.of(guestKb);
        System.err.printf(Locale.ROOT, "bench: %s: %d runs of %d VMs; MiB per extra idle VM: hyper-gen %.3f"
                        + " (%.3f..%.3f), C %.3f (%.3f..%.3f); guest RAM touched per VM (not counted) %.0f kB%n",
                NAME, runs, VMS, hg.median(), hg.min(), hg.max(), c.median(), c.min(), c.max(), g.median());
        Map<String, Object> extra = new LinkedHashMap<>();
        extra.put("peer_min", c.min());
        extra.put("peer_max", c.max());
        extra.put("guest_touched_kib_per_vm", g.median());
        extra.put("note", "RSS growth from 1 to " + VMS + " idle 256 MiB 1-vCPU VMs in one process, / " + (VMS - 1)
                + ", minus resident guest RAM; hyper-gen: hg.vmm VMs in one warm JVM (smaps); peer: the same KVM"
                + " set-up in C, one thread per vCPU (VmRSS, mincore); QEMU microvm cannot run on this host's PVM");
        return Result.measured(NAME, UNIT, hg, c.median(), PEER, GOAL, extra);
    }

    /** One round: returns {MiB per extra VM, guest kB touched per VM}. */
    static double[] javaRun(VmConfig config) throws Exception {
        try (VmManager manager = new VmManager()) {
            List<Integer> ids = new ArrayList<>();
            Smaps first = null;
            for (int i = 0; i < VMS; i++) {
                int id = manager.create(config);
                ids.add(id);
                CreateCpu.awaitFirstMark(manager.require(id));
                if (i == 0) {
                    first = settled();
                }
            }
            Smaps last = settled();
            if (first.guests() != 1 || last.guests() != VMS) {
                throw new IllegalStateException("found the RAM of " + first.guests() + " and " + last.guests()
                        + " guests in this process, not 1 and " + VMS);
            }
            double perVmMib = (last.vmmRssKb() - first.vmmRssKb()) / 1024.0 / (VMS - 1);
            double guestKbPerVm = (double) last.guestRssKb() / VMS;
            return new double[] {perVmMib, guestKbPerVm};
        }
    }

    /** Reads smaps once the VMs' threads had time to park and a GC ran. */
    private static Smaps settled() throws Exception {
        System.gc();
        Thread.sleep(100);
        return Smaps.read(SIGNATURE);
    }

    /** One C round: MiB per extra VM. */
    private static double peerRun(Path runner) throws Exception {
        List<String> out = Gcc.run(List.of(runner.toString(), "mem", Integer.toString(VMS), Long.toString(MEMORY >> 20)), 120);
        long[] first = null, last = null;
        for (String line : out) {
            String[] f = line.trim().split("\\s+");
            if (f.length == 4 && f[0].equals("mem")) {
                long[] v = {Long.parseLong(f[1]), Long.parseLong(f[2]), Long.parseLong(f[3])};
                if (v[0] == 1) {
                    first = v;
                } else if (v[0] == VMS) {
                    last = v;
                }
            }
        }
        if (first == null || last == null) {
            throw new IllegalStateException("vm_runner mem printed no figures: " + out);
        }
        return ((last[1] - last[2]) - (first[1] - first[2])) / 1024.0 / (VMS - 1);
    }
}
