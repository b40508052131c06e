package hg.vmm.internal.io;

import hg.vmm.Console;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * The console of one VM: a ring of the last {@code capacity} output bytes plus listeners. The ring
 * starts small and doubles until it holds {@code capacity}: one process holds every VM, and a quiet
 * guest's console should not cost it the whole ring.
 */
public final class ConsoleBuffer implements Console {

    public static final int DEFAULT_CAPACITY = 64 * 1024;
    static final int FIRST_RING = 4 * 1024;

    private final int capacity;
    private byte[] ring;
    private long written;           // total bytes ever written; ring position = written % length
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();
    private volatile Consumer<byte[]> input = bytes -> { };
    private boolean ended;

    public ConsoleBuffer() {
        this(DEFAULT_CAPACITY);
    }

    public ConsoleBuffer(int capacity) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("console capacity must be positive");
        }
        this.capacity = capacity;
        ring = new byte[Math.min(capacity, FIRST_RING)];
    }

    /** Where {@link #input} goes: the receive queue of the guest's console device. */
    public void connectInput(Consumer<byte[]> sink) {
        input = sink;
    }

    /** Guest output: kept and passed on. A listener that throws is detached. */
    public synchronized void emit(byte[] bytes) {
        if (bytes.length == 0) {
            return;
        }
        grow(bytes.length);
        int n = Math.min(bytes.length, ring.length);
        int from = bytes.length - n;
        for (int i = 0; i < n; i++) {
            ring[(int) ((written + from + i) % ring.length)] = bytes[from + i];
        }
        written += bytes.length;
        for (Listener l : listeners) {
            try {
                l.output(bytes);
            } catch (RuntimeException e) {
                listeners.remove(l);
            }
        }
    }

    /**
     * Makes room for {@code more} bytes before the ring first wraps: until then its bytes are
     * {@code [0, written)} in order, so a larger ring takes them as they are.
     */
    private void grow(int more) {
        long need = written + more;
        if (need <= ring.length || ring.length == capacity) {
            return;
        }
        int size = ring.length;
        while (size < need && size < capacity) {
            size = (int) Math.min(capacity, size * 2L);
        }
        ring = java.util.Arrays.copyOf(ring, size);
    }

    /** The VM stopped: tells every listener and every later one that attaches. */
    public synchronized void end() {
        if (ended) {
            return;
        }
        ended = true;
        for (Listener l : listeners) {
            try {
                l.ended();
            } catch (RuntimeException ignored) {
                // a failing listener must not keep the others from hearing it
            }
        }
        listeners.clear();
    }

    @Override
    public synchronized Attachment attach(Listener listener) {
        byte[] past = history();
        if (past.length > 0) {
            listener.output(past);
        }
        if (ended) {
            listener.ended();
            return () -> { };
        }
        listeners.add(listener);
        return () -> listeners.remove(listener);
    }

    @Override
    public void input(byte[] bytes) {
        input.accept(bytes.clone());
    }

    @Override
    public synchronized byte[] history() {
        int n = (int) Math.min(written, ring.length);
        byte[] out = new byte[n];
        long start = written - n;
        for (int i = 0; i < n; i++) {
            out[i] = ring[(int) ((start + i) % ring.length)];
        }
        return out;
    }

    /** The ring's size now (for tests). */
    synchronized int ringLength() {
        return ring.length;
    }

    /** Total bytes the guest has written, kept or not. */
    public synchronized long totalOutput() {
        return written;
    }
}
