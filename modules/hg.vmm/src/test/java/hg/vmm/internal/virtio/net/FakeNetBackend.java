package hg.vmm.internal.virtio.net;

import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/** A network backend made of two lists: frames waiting for the guest, frames the guest sent. */
final class FakeNetBackend implements NetBackend {
    final ArrayDeque<byte[]> inbound = new ArrayDeque<>();
    final List<byte[]> sent = new ArrayList<>();
    final boolean offloadsAccepted;
    int offload = -1;
    boolean closed;

    FakeNetBackend(boolean offloadsAccepted) {
        this.offloadsAccepted = offloadsAccepted;
    }

    @Override
    public int receive(MemorySegment into) {
        byte[] f = inbound.poll();
        if (f == null) {
            return 0;
        }
        MemorySegment.copy(f, 0, into, JAVA_BYTE, 0, f.length);
        return f.length;
    }

    @Override
    public boolean send(List<MemorySegment> parts) {
        int n = parts.stream().mapToInt(p -> (int) p.byteSize()).sum();
        byte[] f = new byte[n];
        int o = 0;
        for (MemorySegment p : parts) {
            MemorySegment.copy(p, JAVA_BYTE, 0, f, o, (int) p.byteSize());
            o += (int) p.byteSize();
        }
        sent.add(f);
        return true;
    }

    @Override
    public boolean setOffload(int flags) {
        if (flags != 0 && !offloadsAccepted) {
            return false;
        }
        offload = flags;
        return true;
    }

    @Override
    public int fd() {
        return -1;
    }

    @Override
    public String describe() {
        return "fake";
    }

    @Override
    public void close() {
        closed = true;
    }
}
