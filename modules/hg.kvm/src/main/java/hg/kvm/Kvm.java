package hg.kvm;

import hg.kvm.internal.Errno;
import hg.kvm.internal.Ioctls;
import hg.kvm.internal.Layouts;
import hg.kvm.internal.Libc;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/** An open /dev/kvm: system-wide queries and the factory of VMs. */
public final class Kvm implements AutoCloseable {
    /** The only KVM API version there has ever been (KVM_API_VERSION). */
    public static final int API_VERSION = 12;
    public static final Path DEVICE = Path.of("/dev/kvm");

    private final int fd;
    private final int vcpuMmapSize;
    private final int maxVcpusPerVm;
    private final boolean tscDeadlineTimer;
    private final boolean coalescedPio;
    private final AtomicBoolean closed = new AtomicBoolean();

    private Kvm(int fd) {
        this.fd = fd;
        try {
            int version = Libc.ioctl(fd, Ioctls.KVM_GET_API_VERSION, 0L, "KVM_GET_API_VERSION");
            if (version != API_VERSION) {
                throw new KvmException("KVM_GET_API_VERSION", "API version " + version + ", expected " + API_VERSION);
            }
            this.vcpuMmapSize = Libc.ioctl(fd, Ioctls.KVM_GET_VCPU_MMAP_SIZE, 0L, "KVM_GET_VCPU_MMAP_SIZE");
            // Asked once: the answers are the host's, the same for every VM, and a create should not pay for them.
            int max = checkExtension(KvmCap.MAX_VCPUS);
            this.maxVcpusPerVm = max > 0 ? max : checkExtension(KvmCap.NR_VCPUS);
            this.tscDeadlineTimer = checkExtension(KvmCap.TSC_DEADLINE_TIMER) > 0;
            this.coalescedPio = checkExtension(KvmCap.COALESCED_MMIO) == CoalescedRing.PAGE_OFFSET
                    && checkExtension(KvmCap.COALESCED_PIO) > 0
                    && vcpuMmapSize >= (CoalescedRing.PAGE_OFFSET + 1) * 4096;
        } catch (RuntimeException e) {
            Libc.close(fd);
            throw e;
        }
    }

    /** Whether this host has a /dev/kvm at all (it may still be unusable: see {@link #open()}). */
    public static boolean present() {
        return Files.exists(DEVICE);
    }

    /** Opens /dev/kvm; fails with a {@link KvmException} naming the errno (ENOENT, EACCES, ...). */
    public static Kvm open() {
        return new Kvm(Libc.open(DEVICE.toString(), Libc.O_RDWR | Libc.O_CLOEXEC));
    }

    public int fd() {
        return fd;
    }

    public int apiVersion() {
        return Libc.ioctl(fd, Ioctls.KVM_GET_API_VERSION, 0L, "KVM_GET_API_VERSION");
    }

    /** 0 when the capability is absent, else 1 or a capability-specific number. See {@link KvmCap}. */
    public int checkExtension(int capability) {
        return Libc.ioctl(fd, Ioctls.KVM_CHECK_EXTENSION, capability, "KVM_CHECK_EXTENSION");
    }

    /** The most vCPUs KVM makes in one VM (KVM_CAP_MAX_VCPUS, else the recommended KVM_CAP_NR_VCPUS); 0 if neither says. */
    public int maxVcpusPerVm() {
        return maxVcpusPerVm;
    }

    /** Whether KVM's local APIC emulates the TSC-deadline timer (KVM_CAP_TSC_DEADLINE_TIMER). */
    public boolean tscDeadlineTimer() {
        return tscDeadlineTimer;
    }

    /** Whether writes to I/O ports can be coalesced ({@link VmFd#registerCoalescedPio}, {@link VcpuFd#coalescedRing}). */
    public boolean coalescedPio() {
        return coalescedPio;
    }

    /** Bytes of the kvm_run area each vCPU maps. */
    public int vcpuMmapSize() {
        return vcpuMmapSize;
    }

    /** The CPUID leaves KVM can present to a guest (KVM_GET_SUPPORTED_CPUID). */
    public List<CpuidEntry> supportedCpuid() {
        return readCpuid2(fd, Ioctls.KVM_GET_SUPPORTED_CPUID, "KVM_GET_SUPPORTED_CPUID");
    }

    /** Reads a kvm_cpuid2 list, growing the buffer while the kernel answers E2BIG. */
    static List<CpuidEntry> readCpuid2(int fd, long request, String name) {
        long entrySize = Layouts.KVM_CPUID_ENTRY2.byteSize();
        long header = Layouts.KVM_CPUID2.byteSize();
        for (int n = 128; ; n *= 2) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment buf = arena.allocate(header + n * entrySize, 8);
                buf.set(JAVA_INT, 0, n);
                try {
                    Libc.ioctl(fd, request, buf, name);
                } catch (KvmException e) {
                    if (e.errno() == Errno.E2BIG && n < 4096) {
                        continue;
                    }
                    throw e;
                }
                int count = buf.get(JAVA_INT, 0);
                List<CpuidEntry> out = new ArrayList<>(count);
                for (int i = 0; i < count; i++) {
                    out.add(Structs.readCpuidEntry(buf, header + i * entrySize));
                }
                return List.copyOf(out);
            }
        }
    }

    /** The MSR indices KVM saves and restores (KVM_GET_MSR_INDEX_LIST). */
    public int[] msrIndexList() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment probe = arena.allocate(Layouts.KVM_MSR_LIST);
            probe.set(JAVA_INT, 0, 0);
            try {
                Libc.ioctl(fd, Ioctls.KVM_GET_MSR_INDEX_LIST, probe, "KVM_GET_MSR_INDEX_LIST");
                return new int[0];
            } catch (KvmException e) {
                if (e.errno() != Errno.E2BIG) {
                    throw e;
                }
            }
            int n = probe.get(JAVA_INT, 0);
            MemorySegment list = arena.allocate(4L + 4L * n, 4);
            list.set(JAVA_INT, 0, n);
            Libc.ioctl(fd, Ioctls.KVM_GET_MSR_INDEX_LIST, list, "KVM_GET_MSR_INDEX_LIST");
            int got = list.get(JAVA_INT, 0);
            return list.asSlice(4, 4L * got).toArray(JAVA_INT);
        }
    }

    /** Creates a VM (retrying the EINTR the kernel may answer while it sets one up). */
    public VmFd createVm() {
        for (int attempt = 0; ; attempt++) {
            try {
                int vm = Libc.ioctl(fd, Ioctls.KVM_CREATE_VM, 0L, "KVM_CREATE_VM");
                return new VmFd(vm, vcpuMmapSize);
            } catch (KvmException e) {
                if (e.errno() != Errno.EINTR || attempt > 100) {
                    throw e;
                }
            }
        }
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            Libc.close(fd);
        }
    }
}
