package hg.vmm.internal.pseudo;

import hg.vmm.internal.bus.BusDevice;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * An MMIO page a guest writes to at milestones of its boot (for instance its init runs
 * {@code devmem 0xd0f00000 8 1}): each write is recorded with the time since the VM was
 * created, so boot time is measured by the VMM itself. Reads return 0.
 */
public final class BootTimer implements BusDevice {

    public static final long ADDRESS = 0xd0f0_0000L;
    public static final long SIZE = 0x1000;

    /** One milestone: the value the guest wrote and when. */
    public record Mark(long value, Duration sinceCreate) {
    }

    private final long createdNanos;
    private final List<Mark> marks = new ArrayList<>();

    public BootTimer(long createdNanos) {
        this.createdNanos = createdNanos;
    }

    @Override
    public void read(long offset, byte[] data) {
        java.util.Arrays.fill(data, (byte) 0);
    }

    @Override
    public void write(long offset, byte[] data) {
        long now = System.nanoTime();
        long value = 0;
        for (int i = Math.min(data.length, 8) - 1; i >= 0; i--) {
            value = (value << 8) | (data[i] & 0xff);
        }
        synchronized (this) {
            if (marks.size() < 1024) {
                marks.add(new Mark(value, Duration.ofNanos(now - createdNanos)));
            }
        }
    }

    public synchronized List<Mark> marks() {
        return List.copyOf(marks);
    }
}
