package hg.vmm.internal.pseudo;

import hg.vmm.internal.bus.BusDevice;
import hg.vmm.StopReason;

import java.util.function.Consumer;

/**
 * A port a test guest writes an exit code to; the VM stops with that code. Reads return 0.
 * At port 0x501 like QEMU's isa-debug-exit, which Linux never touches.
 */
public final class DebugExitPort implements BusDevice {

    public static final int PORT = 0x501;
    public static final int PORT_COUNT = 4;

    private final Consumer<StopReason> stop;

    public DebugExitPort(Consumer<StopReason> stop) {
        this.stop = stop;
    }

    @Override
    public void read(long offset, byte[] data) {
        java.util.Arrays.fill(data, (byte) 0);
    }

    @Override
    public void write(long offset, byte[] data) {
        int code = 0;
        for (int i = Math.min(data.length, 4) - 1; i >= 0; i--) {
            code = (code << 8) | (data[i] & 0xff);
        }
        stop.accept(new StopReason.DebugExit(code));
    }
}
