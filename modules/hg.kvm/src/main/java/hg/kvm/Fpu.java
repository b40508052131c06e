package hg.kvm;

import java.util.Arrays;

/** x87/SSE state of a vCPU (struct kvm_fpu): 8 x87 registers and 16 XMM registers, 16 bytes each. */
public record Fpu(byte[] fpr, int fcw, int fsw, int ftwx, int lastOpcode, long lastIp, long lastDp,
                  byte[] xmm, int mxcsr) {

    /** The state Linux and firmware expect at reset: FCW 0x37f, MXCSR 0x1f80. */
    public static Fpu initial() {
        return new Fpu(new byte[128], 0x37f, 0, 0, 0, 0, 0, new byte[256], 0x1f80);
    }

    public Fpu {
        if (fpr.length != 128 || xmm.length != 256) {
            throw new IllegalArgumentException("fpr must be 128 bytes and xmm 256 bytes");
        }
        fpr = fpr.clone();
        xmm = xmm.clone();
    }

    @Override
    public byte[] fpr() {
        return fpr.clone();
    }

    @Override
    public byte[] xmm() {
        return xmm.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Fpu f && Arrays.equals(fpr, f.fpr) && fcw == f.fcw && fsw == f.fsw && ftwx == f.ftwx
                && lastOpcode == f.lastOpcode && lastIp == f.lastIp && lastDp == f.lastDp
                && Arrays.equals(xmm, f.xmm) && mxcsr == f.mxcsr;
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(fpr) * 31 + Arrays.hashCode(xmm) + fcw + mxcsr;
    }
}
