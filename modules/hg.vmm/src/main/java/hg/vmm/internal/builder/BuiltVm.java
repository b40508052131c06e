package hg.vmm.internal.builder;

import hg.kvm.CpuidEntry;
import hg.kvm.GuestMemory;
import hg.kvm.VmFd;
import hg.vmm.internal.cpu.VcpuLoop;
import hg.vmm.internal.io.ConsoleBuffer;
import hg.vmm.internal.io.IoLoop;
import hg.vmm.internal.legacy.I8042;
import hg.vmm.internal.legacy.Serial16550;
import hg.vmm.internal.pseudo.BootTimer;
import hg.vmm.internal.virtio.VirtioMmioTransport;

import java.util.List;
import java.util.Optional;

/**
 * What {@link VmBuilder} made, ready to start: the VM's lifecycle owns it from here.
 *
 * @param resources everything to release, newest first (the I/O loop among them)
 * @param io        the I/O thread, not started yet
 * @param loops     one per vCPU, threads not started yet
 * @param cmdline   the kernel command line the guest was given
 * @param steps     the creating thread's CPU time per step so far; starting the threads is the last
 */
public record BuiltVm(Resources resources, IoLoop io, Serial16550 serial, ConsoleBuffer console, BootTimer bootTimer,
                      List<VcpuLoop> loops, List<AttachedDisk> disks, Optional<NetCard> net, String cmdline,
                      Machine machine, StepClock steps) {
    public BuiltVm {
        loops = List.copyOf(loops);
        // Replaceable in place, one element at a time (a drive's new file), and safe to read meanwhile.
        disks = new java.util.concurrent.CopyOnWriteArrayList<>(disks);
    }

    /**
     * What a snapshot reads besides the above: the VM fd, guest memory, the i8042, the virtio
     * transports in slot order, the network slot (0 without a card), the CPUID of each vCPU, and
     * the host's wall clock when the guest's kvmclock read zero.
     */
    public record Machine(VmFd vmFd, GuestMemory memory, I8042 i8042, List<VirtioMmioTransport> transports, int netSlot,
                          List<List<CpuidEntry>> cpuid, long clockZeroAt) {
        public Machine {
            transports = List.copyOf(transports);
            cpuid = List.copyOf(cpuid);
        }
    }
}
