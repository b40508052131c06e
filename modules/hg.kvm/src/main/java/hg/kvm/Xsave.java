package hg.kvm;

import java.util.Arrays;

/**
 * A vCPU's XSAVE area (struct kvm_xsave): the legacy region, the XSAVE header and the extended
 * components at the offsets CPUID leaf 0xD gives on the host. 4096 bytes, or more when
 * KVM_CAP_XSAVE2 says the VM's features need more.
 */
public record Xsave(byte[] region) {
    /** The size of struct kvm_xsave without the XSAVE2 extension. */
    public static final int LEGACY_SIZE = 4096;

    public Xsave {
        if (region.length < LEGACY_SIZE || region.length % 4 != 0) {
            throw new IllegalArgumentException(
                    "xsave region must be at least 4096 bytes and a multiple of 4, not " + region.length);
        }
        region = region.clone();
    }

    @Override
    public byte[] region() {
        return region.clone();
    }

    /** Bytes of the region (saves a copy when only the size matters). */
    public int size() {
        return region.length;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Xsave x && Arrays.equals(region, x.region);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(region);
    }

    @Override
    public String toString() {
        return "Xsave[" + region.length + " bytes]";
    }
}
