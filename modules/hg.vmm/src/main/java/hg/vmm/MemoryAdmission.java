package hg.vmm;

import java.util.Locale;
import java.util.OptionalLong;
import java.util.function.Supplier;

/**
 * The account of guest memory promised to the running VMs of this process, which every front end's VM
 * creation goes through ({@link VmManager#create}).
 *
 * <p>Guest memory is mapped without reserving it (pages are backed as the guest touches them), so what the
 * host has available when a VM is made says nothing about what the running VMs will take later: several 3 GiB
 * VMs start on a 4 GiB host, and when their guests touch their memory the OOM killer ends the one process that
 * holds every VM. So a VM is admitted only while the guest memory of all running VMs together, each counted in
 * full (a clone that shares pages with its origin too: sharing ends as the guests write), stays within the
 * host's total memory less a reserve for the host and the VMM. An overcommitting caller is admitted whatever
 * the sum, and its VMs still count against the others.
 */
public final class MemoryAdmission {
    /**
     * Kept for the host and the VMM besides this JVM's maximum heap: the host kernel and its page cache, and the
     * VMM's memory outside the heap (thread stacks, code, direct buffers, per-VM device state).
     */
    public static final long HOST_RESERVE = 256L << 20;

    private final Supplier<OptionalLong> hostMemory;
    private final long reserve;
    private long promised;

    /**
     * @param hostMemory the host's total memory in bytes, asked at every admission; empty where it is unknown
     *                   (then every VM is admitted)
     * @param reserve    the bytes kept for the host and the VMM
     */
    public MemoryAdmission(Supplier<OptionalLong> hostMemory, long reserve) {
        this.hostMemory = hostMemory;
        this.reserve = reserve;
    }

    /** The account of this process: the host's MemTotal, less {@link #HOST_RESERVE} and the maximum heap. */
    public static MemoryAdmission forThisProcess() {
        return ThisProcess.ADMISSION;
    }

    private static final class ThisProcess {
        static final MemoryAdmission ADMISSION = new MemoryAdmission(hg.kvm.sys.HostMemory::total,
                HOST_RESERVE + Runtime.getRuntime().maxMemory());
    }

    /**
     * Promises {@code bytes} of guest memory to a new VM, or refuses with a {@link MemoryRefusedException} naming
     * what was asked, what running VMs hold and the limit. {@code overcommit} admits whatever the sum.
     */
    public synchronized Promise admit(long bytes, boolean overcommit) {
        OptionalLong limit = limit();
        if (!overcommit && limit.isPresent() && bytes > limit.getAsLong() - promised) {
            throw new MemoryRefusedException(String.format(Locale.ROOT,
                    "not enough memory for this VM: %s asked, %s promised to running VMs, limit %s "
                            + "(the host's %s less %s kept for the host and the VMM)",
                    human(bytes), human(promised), human(limit.getAsLong()), human(hostMemory().orElse(0)),
                    human(reserve)), bytes, promised, limit.getAsLong());
        }
        promised += bytes;
        return new Promise(bytes);
    }

    /** The guest memory promised to running VMs now, in bytes. */
    public synchronized long promised() {
        return promised;
    }

    /** What running VMs may be promised together: the host's memory less the reserve; empty where it is unknown. */
    public OptionalLong limit() {
        OptionalLong total = hostMemory();
        return total.isPresent() ? OptionalLong.of(Math.max(0, total.getAsLong() - reserve)) : OptionalLong.empty();
    }

    public OptionalLong hostMemory() {
        return hostMemory.get();
    }

    public long reserve() {
        return reserve;
    }

    private synchronized void giveBack(long bytes) {
        promised -= bytes;
    }

    /** One VM's share of the account; closing it (once, whoever does) gives the memory back. */
    public final class Promise implements AutoCloseable {
        private final long bytes;
        private boolean returned;

        private Promise(long bytes) {
            this.bytes = bytes;
        }

        public long bytes() {
            return bytes;
        }

        @Override
        public void close() {
            synchronized (MemoryAdmission.this) {
                if (!returned) {
                    returned = true;
                    giveBack(bytes);
                }
            }
        }
    }

    /** "3 GiB", "3.5 GiB", "768 MiB", "0 B": as the shell prints sizes. */
    static String human(long bytes) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
        double v = bytes;
        int u = 0;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return v == Math.rint(v) ? String.format(Locale.ROOT, "%d %s", (long) v, units[u])
                : String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }
}
