package hg.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;

/** The platform threads hg.vmm starts for one VM, found by their names ("vm&lt;id&gt;-vcpu0", "vm&lt;id&gt;-io"). */
final class VmThreads {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private VmThreads() {}

    /** CPU nanoseconds used so far by the live threads of VM {@code id}. */
    static long cpuNanos(int id) {
        String prefix = "vm" + id + "-";
        long total = 0;
        int found = 0;
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().startsWith(prefix) && !t.isVirtual()) {
                long ns = THREADS.getThreadCpuTime(t.threadId());
                if (ns >= 0) {
                    total += ns;
                    found++;
                }
            }
        }
        if (found == 0) {
            throw new IllegalStateException("found no thread of VM " + id + " (named " + prefix + "*)");
        }
        return total;
    }

    /**
     * CPU nanoseconds of every live thread of this process, JIT compiler and GC threads included:
     * the sum of /proc/self/task/N/schedstat's first field (nanoseconds, unlike /proc/self/stat's ticks).
     */
    static long processCpuNanos() {
        long total = 0;
        try (var tasks = java.nio.file.Files.list(java.nio.file.Path.of("/proc/self/task"))) {
            for (var task : (Iterable<java.nio.file.Path>) tasks::iterator) {
                try {
                    String s = java.nio.file.Files.readString(task.resolve("schedstat"));
                    total += Long.parseLong(s.substring(0, s.indexOf(' ')));
                } catch (java.io.IOException | RuntimeException e) {
                    // the thread ended meanwhile
                }
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return total;
    }
}
