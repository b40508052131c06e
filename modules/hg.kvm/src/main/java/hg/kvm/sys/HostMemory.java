package hg.kvm.sys;

import hg.kvm.internal.Libc;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.OptionalLong;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The host's total memory (MemTotal of /proc/meminfo) from sysinfo(2): one system call, where
 * reading and parsing /proc/meminfo at every VM's admission costs a tenth of a millisecond.
 */
public final class HostMemory {
    private HostMemory() {}

    /** struct sysinfo on x86-64: totalram at 32, mem_unit at 104, 112 bytes. */
    private static final long TOTALRAM = 32;
    private static final long MEM_UNIT = 104;
    private static final long SIZE = 112;
    private static final MethodHandle SYSINFO = Libc.downcall("sysinfo", FunctionDescriptor.of(JAVA_INT, ADDRESS));

    /** The host's usable RAM in bytes, as the kernel counts it; empty if sysinfo fails. */
    public static OptionalLong total() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment info = arena.allocate(SIZE, 8);
            if ((int) SYSINFO.invokeExact(info) != 0) {
                return OptionalLong.empty();
            }
            long unit = Integer.toUnsignedLong(info.get(JAVA_INT, MEM_UNIT));
            return OptionalLong.of(info.get(JAVA_LONG, TOTALRAM) * Math.max(1, unit));
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }
}
