package hg.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;

/** The platform threads hg.vmm starts for one VM, found by their names ("vm&lt;id&gt;-vcpu0", "vm&lt;id&gt;-io"). */
final class VmThreads {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private VmThreads() {}

    /**
     * The CPU nanoseconds each live thread has used so far, by thread id: taken before a create, it is what the
     * threads hg.vmm keeps for the next VM had used for earlier ones.
     */
    static java.util.Map<Long, Long> baseline() {
        java.util.Map<Long, Long> out = new java.util.HashMap<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            out.put(t.threadId(), THREADS.getThreadCpuTime(t.threadId()));
        }
        return out;
    }

    /**
     * CPU nanoseconds used since {@code baseline} by each live thread of VM {@code id}, by the name after its
     * prefix ("vcpu0", "io"); a thread named in {@code until} counts up to the CPU time given there (its whole
     * life's), not up to now.
     */
    static java.util.Map<String, Long> byThread(int id, java.util.Map<Long, Long> baseline, java.util.Map<String, Long> until) {
        String prefix = "vm" + id + "-";
        java.util.Map<String, Long> out = new java.util.TreeMap<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().startsWith(prefix) && !t.isVirtual()) {
                String name = t.getName().substring(prefix.length());
                Long given = until.get(name);
                long ns = given != null ? given : THREADS.getThreadCpuTime(t.threadId());
                if (ns >= 0) {
                    out.merge(name, ns - baseline.getOrDefault(t.threadId(), 0L), Long::sum);
                }
            }
        }
        if (out.isEmpty()) {
            throw new IllegalStateException("found no thread of VM " + id + " (named " + prefix + "*)");
        }
        return out;
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
