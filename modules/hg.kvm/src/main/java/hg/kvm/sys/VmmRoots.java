package hg.kvm.sys;

import hg.kvm.net.Nft;

import java.io.File;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The only files a confined VMM keeps (its Landlock roots): the guest kernel directory read-only, the image
 * directory and the other writable directories it was given (snapshots, clones, shares) read-write, its own
 * runtime, the devices a VMM opens and the few system files the JVM reads. One list for the shipped daemon
 * and for the benchmarks, so the figures are measured as the product runs.
 */
public record VmmRoots(List<Path> readOnly, List<Path> readWrite) {
    /** The daemon's socket, its VMs' vsock sockets and its temporary files. */
    public static final Path RUNTIME = Path.of("/run/hyper-gen");

    public VmmRoots {
        readOnly = List.copyOf(readOnly);
        readWrite = List.copyOf(readWrite);
    }

    /**
     * The roots of a VMM on {@code kernelDir} and {@code imageDir} (either may be null), writing in
     * {@code writableDirs}, running from {@code javaHome} with {@code modulePath} (either may be null), on
     * the terminals {@code consoles}.
     */
    public static VmmRoots of(Path kernelDir, Path imageDir, List<Path> writableDirs, String javaHome,
                              String modulePath, List<Path> consoles) {
        Set<Path> ro = new LinkedHashSet<>();
        Set<Path> rw = new LinkedHashSet<>();
        if (kernelDir != null) {
            ro.add(kernelDir);
        }
        if (imageDir != null) {
            rw.add(imageDir);
        }
        for (Path d : writableDirs) {
            rw.add(d.toAbsolutePath().normalize());
        }
        if (javaHome != null) {
            ro.add(Path.of(javaHome));
        }
        if (modulePath != null) {
            for (String entry : modulePath.split(File.pathSeparator)) {
                if (!entry.isBlank()) {
                    ro.add(Path.of(entry));
                }
            }
        }
        // The loader and the system libraries; /etc only file by file, so /etc/shadow stays out.
        for (String p : List.of("/lib", "/lib64", "/usr/lib", "/usr/lib64", "/etc/ld.so.cache", "/etc/localtime",
                "/etc/timezone", "/usr/share/zoneinfo", "/etc/passwd", "/etc/group", "/etc/nsswitch.conf",
                // What the JVM and the VMM read about this machine and this process.
                "/proc/self", "/proc/meminfo", "/proc/cpuinfo", "/proc/stat", "/proc/cmdline", "/proc/filesystems",
                "/proc/sys/kernel/cap_last_cap", "/proc/sys/vm", "/sys/fs/cgroup", "/sys/devices/system/cpu",
                "/sys/devices/system/node", "/sys/kernel/mm/transparent_hugepage", "/sys/kernel/mm/hugepages",
                "/dev/urandom", "/dev/random")) {
            ro.add(Path.of(p));
        }
        // nft, which loads the guest filter once the VMM runs confined and before the lock-down.
        Nft.program().ifPresent(ro::add);
        for (String p : List.of("/dev/kvm", "/dev/net/tun", "/dev/vhost-net", "/dev/null", "/dev/zero", "/dev/tty",
                "/dev/pts")) {
            rw.add(Path.of(p));
        }
        rw.addAll(consoles);
        rw.add(RUNTIME);
        ro.removeAll(rw);
        return new VmmRoots(List.copyOf(ro), List.copyOf(rw));
    }
}
