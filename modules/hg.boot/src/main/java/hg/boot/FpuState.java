package hg.boot;

/** The x87 control word and MXCSR a vCPU starts with (their power-on values, 0x37f and 0x1f80). */
public record FpuState(int fcw, int mxcsr) {
    public static final FpuState DEFAULT = new FpuState(0x37f, 0x1f80);
}
