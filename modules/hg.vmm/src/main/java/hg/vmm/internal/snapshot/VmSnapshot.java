package hg.vmm.internal.snapshot;

import hg.kvm.CpuidEntry;
import hg.vmm.internal.cpu.MachineState;
import hg.vmm.internal.cpu.VcpuState;
import hg.vmm.internal.legacy.I8042State;
import hg.vmm.internal.legacy.SerialState;
import hg.vmm.internal.virtio.TransportState;
import hg.vmm.internal.virtio.block.DiskIdentity;

import java.util.List;

/**
 * Everything a snapshot's state file holds: how the VM was made, KVM's state of the VM and of
 * each vCPU, and each device's state, virtio devices in the order of their MMIO slots. Guest
 * RAM is in the memory file beside it, disks in image files beside it.
 */
public record VmSnapshot(Machine vm, MachineState machine, List<Vcpu> vcpus, SerialState serial, I8042State i8042,
                         List<TransportState> devices) {
    public VmSnapshot {
        vcpus = List.copyOf(vcpus);
        devices = List.copyOf(devices);
    }

    /**
     * How the VM was made: what vm_list shows of it and what a restore rebuilds.
     *
     * @param kernel  the kernel it booted (shown only: the kernel is in guest memory now)
     * @param netSlot the network slot whose MAC and address the guest uses, or 0 without a card
     * @param clockZeroAt the host's wall clock, in ns since the epoch, when the guest's kvmclock read
     *                    zero (the guest's wall clock is that plus its kvmclock): a restore sets the
     *                    kvmclock so that the guest's wall clock is the host's again; 0 when unknown
     */
    public record Machine(String kernel, String cmdline, long memoryBytes, int vcpuCount, List<Disk> disks,
                          int netSlot, boolean vhost, long clockZeroAt) {
        public Machine {
            disks = List.copyOf(disks);
        }

        /** A machine whose clock's zero is unknown (0): a restore leaves its clocks where they were. */
        public Machine(String kernel, String cmdline, long memoryBytes, int vcpuCount, List<Disk> disks, int netSlot,
                       boolean vhost) {
            this(kernel, cmdline, memoryBytes, vcpuCount, disks, netSlot, vhost, 0L);
        }
    }

    /**
     * A disk: its device name in the guest, its image file in the snapshot directory (or, for a
     * read-only disk, where it lies), and the identity that tells whether it changed since.
     */
    public record Disk(String device, String file, boolean readOnly, DiskIdentity identity) {
    }

    /** A vCPU: the CPUID it was given and KVM's state of it. */
    public record Vcpu(List<CpuidEntry> cpuid, VcpuState state) {
        public Vcpu {
            cpuid = List.copyOf(cpuid);
        }
    }
}
