package hg.vmm.internal.io;

import hg.vmm.Console;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/** The console of one VM: a ring of the last {@code capacity} output bytes plus listeners. */
public final class ConsoleBuffer implements Console {

    public static final int DEFAULT_CAPACITY = 64 * 1024;

    private final byte[] ring;
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
        ring = new byte[capacity];
    }

    /** Where {@link #input} goes: the UART's receive queue. */
    public void connectInput(Consumer<byte[]> sink) {
        input = sink;
    }

    /** Guest output: kept and passed on. A listener that throws is detached. */
    public synchronized void emit(byte[] bytes) {
        if (bytes.length == 0) {
            return;
        }
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

    /** Total bytes the guest has written, kept or not. */
    public synchronized long totalOutput() {
        return written;
    }
}
