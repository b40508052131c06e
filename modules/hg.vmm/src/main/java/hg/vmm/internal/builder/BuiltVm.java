package hg.vmm.internal.builder;

import hg.vmm.internal.cpu.VcpuLoop;
import hg.vmm.internal.io.ConsoleBuffer;
import hg.vmm.internal.io.IoLoop;
import hg.vmm.internal.legacy.Serial16550;
import hg.vmm.internal.pseudo.BootTimer;

import java.util.List;
import java.util.Optional;

/**
 * What {@link VmBuilder} made, ready to start: the VM's lifecycle owns it from here.
 *
 * @param resources everything to release, newest first (the I/O loop among them)
 * @param io        the I/O thread, not started yet
 * @param loops     one per vCPU, threads not started yet
 * @param cmdline   the kernel command line the guest was given
 */
public record BuiltVm(Resources resources, IoLoop io, Serial16550 serial, ConsoleBuffer console, BootTimer bootTimer,
                      List<VcpuLoop> loops, List<AttachedDisk> disks, Optional<NetCard> net, String cmdline) {
    public BuiltVm {
        loops = List.copyOf(loops);
        disks = List.copyOf(disks);
    }
}
