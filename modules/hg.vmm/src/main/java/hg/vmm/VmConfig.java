package hg.vmm;

import hg.vmm.internal.builder.MmioDeviceManager;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What a VM is made of.
 *
 * @param kernel       an uncompressed vmlinux (or bzImage) to boot
 * @param initrd       an optional initramfs
 * @param cmdlineExtra appended to the kernel command line hyper-gen builds (console, root, devices)
 * @param memoryBytes  guest RAM; a multiple of 4 KiB, at least 2 MiB
 * @param vcpus        number of vCPUs, 1 to 254
 * @param image        the raw root file system image, attached as /dev/vda; empty for none
 * @param readOnly     attach the image read-only (shared lock, VIRTIO_BLK_F_RO, {@code ro} on the cmdline)
 * @param dataDisks    further raw images, attached after the root image in this order (/dev/vdb, /dev/vdc, ...)
 * @param net          give the guest a virtio-net card on a TAP in the host bridge {@code hgbr0}
 * @param vhost        let the host kernel's vhost-net serve the card's queues where the host has it;
 *                     false keeps the VMM's own data path
 * @param hostTap      with {@code net}: a TAP the caller made and set up, used as it is instead of one
 *                     of hyper-gen's own on {@code hgbr0} (no bridge, no filter, no {@code ip=}: the caller
 *                     owns that network); empty for hyper-gen's own
 * @param vsock        the host's Unix socket of the guest's virtio-vsock (Firecracker's hybrid vsock);
 *                     empty for no vsock device
 * @param shares       host directories shared with the guest over virtio-9p, each under its own tag
 * @param hugepages    back the guest's memory with 2 MiB pages (hugetlbfs, else transparent huge pages);
 *                     its size must then be whole 2 MiB pages
 */
public record VmConfig(Path kernel, Optional<Path> initrd, String cmdlineExtra, long memoryBytes, int vcpus,
                       Optional<Path> image, boolean readOnly, List<Disk> dataDisks, boolean net, boolean vhost,
                       Optional<HostTap> hostTap, Optional<Path> vsock, List<Share> shares, boolean hugepages) {

    public static final long DEFAULT_MEMORY = 256L << 20;
    public static final int DEFAULT_VCPUS = 1;
    public static final int MAX_VCPUS = 254;
    /** The huge page {@link #hugepages} asks for. */
    public static final long HUGE_PAGE = hg.kvm.GuestMemory.HUGE_PAGE;
    /** Virtio devices per VM (disks, rng, network card): one interrupt line each on the IOAPIC. */
    public static final int MAX_VIRTIO_DEVICES = MmioDeviceManager.MAX_DEVICES;

    /** A data disk: a raw image file, read-write (one VM at a time) or read-only (shared). */
    public record Disk(Path path, boolean readOnly) {
        public Disk {
            Objects.requireNonNull(path, "path");
        }
    }

    /**
     * A host directory the guest mounts over 9p ({@code mount -t 9p TAG}; the default image mounts it at
     * {@code /mnt/TAG}).
     *
     * @param tag 1 to 31 letters, digits, '_', '-' or '.', starting with a letter or digit (a file name in the guest)
     */
    public record Share(Path dir, String tag, boolean readOnly) {
        public static final java.util.regex.Pattern TAG = java.util.regex.Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,30}");

        public Share {
            Objects.requireNonNull(dir, "dir");
            Objects.requireNonNull(tag, "tag");
            if (!TAG.matcher(tag).matches()) {
                throw new VmException("share tag '" + tag.replaceAll("[^\\x20-\\x7e]", "?") + "' is not 1 to 31 letters, digits, "
                        + "'_', '-' or '.' starting with a letter or digit");
            }
        }
    }

    /**
     * A TAP made by the caller (as Firecracker's clients do) and the guest's MAC on it.
     *
     * @param mac six bytes, or empty for one hyper-gen derives from the name
     */
    public record HostTap(String name, Optional<byte[]> mac) {
        public HostTap {
            Objects.requireNonNull(name, "name");
            if (name.isEmpty() || name.length() > 15 || name.contains("/") || name.indexOf(0) >= 0) {
                throw new VmException("not a network interface name: '" + name + "' (1 to 15 characters, no '/')");
            }
            mac = mac.map(m -> {
                if (m.length != 6) {
                    throw new VmException("a MAC address has 6 bytes, not " + m.length);
                }
                return m.clone();
            });
        }
    }

    public VmConfig {
        Objects.requireNonNull(kernel, "kernel");
        Objects.requireNonNull(hostTap, "hostTap");
        Objects.requireNonNull(initrd, "initrd");
        Objects.requireNonNull(image, "image");
        Objects.requireNonNull(vsock, "vsock");
        dataDisks = List.copyOf(dataDisks);
        shares = List.copyOf(shares);
        if (shares.stream().map(Share::tag).distinct().count() != shares.size()) {
            throw new VmException("two shares have the same tag: give each its own (tag=NAME)");
        }
        cmdlineExtra = cmdlineExtra == null ? "" : cmdlineExtra.strip();
        if (memoryBytes < (2L << 20) || memoryBytes % 4096 != 0) {
            throw new VmException("memory must be a multiple of 4 KiB and at least 2 MiB, not " + memoryBytes + " bytes");
        }
        if (vcpus < 1 || vcpus > MAX_VCPUS) {
            throw new VmException("vCPU count must be 1 to " + MAX_VCPUS + ", not " + vcpus);
        }
        if (hugepages && memoryBytes % HUGE_PAGE != 0) {
            throw new VmException("memory on huge pages must be whole 2 MiB pages, not " + memoryBytes + " bytes");
        }
    }

    /** A VM on hyper-gen's own network, when it has one, without a vsock. */
    public VmConfig(Path kernel, Optional<Path> initrd, String cmdlineExtra, long memoryBytes, int vcpus,
                    Optional<Path> image, boolean readOnly, List<Disk> dataDisks, boolean net, boolean vhost) {
        this(kernel, initrd, cmdlineExtra, memoryBytes, vcpus, image, readOnly, dataDisks, net, vhost, Optional.empty(), Optional.empty(),
                List.of(), false);
    }

    /** A VM without a network card or data disks. */
    public VmConfig(Path kernel, Optional<Path> initrd, String cmdlineExtra, long memoryBytes, int vcpus,
                    Optional<Path> image, boolean readOnly) {
        this(kernel, initrd, cmdlineExtra, memoryBytes, vcpus, image, readOnly, List.of(), false, true);
    }

    /** The defaults: 256 MiB, 1 vCPU, read-write image, no initrd, no extra cmdline, no network. */
    public static VmConfig of(Path kernel, Path image) {
        return new VmConfig(kernel, Optional.empty(), "", DEFAULT_MEMORY, DEFAULT_VCPUS, Optional.ofNullable(image), false);
    }

    public VmConfig withMemory(long bytes) {
        return new VmConfig(kernel, initrd, cmdlineExtra, bytes, vcpus, image, readOnly, dataDisks, net, vhost, hostTap, vsock, shares, hugepages);
    }

    public VmConfig withVcpus(int count) {
        return new VmConfig(kernel, initrd, cmdlineExtra, memoryBytes, count, image, readOnly, dataDisks, net, vhost, hostTap, vsock, shares, hugepages);
    }

    public VmConfig withCmdline(String extra) {
        return new VmConfig(kernel, initrd, extra, memoryBytes, vcpus, image, readOnly, dataDisks, net, vhost, hostTap, vsock, shares, hugepages);
    }

    public VmConfig withInitrd(Path file) {
        return new VmConfig(kernel, Optional.ofNullable(file), cmdlineExtra, memoryBytes, vcpus, image, readOnly, dataDisks,
                net, vhost, hostTap, vsock, shares, hugepages);
    }

    public VmConfig withImage(Path file) {
        return new VmConfig(kernel, initrd, cmdlineExtra, memoryBytes, vcpus, Optional.ofNullable(file), readOnly, dataDisks,
                net, vhost, hostTap, vsock, shares, hugepages);
    }

    public VmConfig withReadOnly(boolean ro) {
        return new VmConfig(kernel, initrd, cmdlineExtra, memoryBytes, vcpus, image, ro, dataDisks, net, vhost, hostTap, vsock, shares, hugepages);
    }

    /** This configuration with one more data disk after the ones it has. */
    public VmConfig withDisk(Path file, boolean ro) {
        List<Disk> more = new ArrayList<>(dataDisks);
        more.add(new Disk(file, ro));
        return new VmConfig(kernel, initrd, cmdlineExtra, memoryBytes, vcpus, image, readOnly, more, net, vhost, hostTap, vsock, shares, hugepages);
    }

    public VmConfig withVhost(boolean on) {
        return new VmConfig(kernel, initrd, cmdlineExtra, memoryBytes, vcpus, image, readOnly, dataDisks, net, on, hostTap, vsock, shares, hugepages);
    }

    public VmConfig withNet(boolean on) {
        return new VmConfig(kernel, initrd, cmdlineExtra, memoryBytes, vcpus, image, readOnly, dataDisks, on, vhost, hostTap, vsock, shares, hugepages);
    }

    /** This configuration with its vsock's host socket at {@code socket}. */
    public VmConfig withVsock(Path socket) {
        return new VmConfig(kernel, initrd, cmdlineExtra, memoryBytes, vcpus, image, readOnly, dataDisks, net, vhost, hostTap,
                Optional.of(socket), shares, hugepages);
    }

    /** This configuration with a network card on the caller's TAP {@code tap}. */
    public VmConfig withHostTap(HostTap tap) {
        return new VmConfig(kernel, initrd, cmdlineExtra, memoryBytes, vcpus, image, readOnly, dataDisks, true, vhost,
                Optional.of(tap), vsock, shares, hugepages);
    }

    /** This configuration with {@code share} too. */
    public VmConfig withShare(Share share) {
        List<Share> more = new ArrayList<>(shares);
        more.add(share);
        return new VmConfig(kernel, initrd, cmdlineExtra, memoryBytes, vcpus, image, readOnly, dataDisks, net, vhost, hostTap,
                vsock, more, hugepages);
    }

    /**
     * This configuration with its memory on 2 MiB pages: the host's hugetlbfs pool when it has enough
     * free, else transparent huge pages (see {@code Vm.hugePages()}).
     */
    public VmConfig withHugepages(boolean on) {
        return new VmConfig(kernel, initrd, cmdlineExtra, memoryBytes, vcpus, image, readOnly, dataDisks, net, vhost, hostTap,
                vsock, shares, on);
    }
}
