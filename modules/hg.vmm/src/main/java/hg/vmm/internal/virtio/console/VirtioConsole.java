package hg.vmm.internal.virtio.console;

import hg.kvm.GuestMemory;
import hg.vmm.internal.virtio.DescriptorChain;
import hg.vmm.internal.virtio.VirtQueue;
import hg.vmm.internal.virtio.Virtio;
import hg.vmm.internal.virtio.VirtioDevice;
import hg.vmm.internal.virtio.VirtioException;

import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/**
 * virtio-console (virtio 1.2 section 5.3) with one port and no multiport: the guest's {@code hvc0}.
 *
 * <p>Why a VM gets one beside its 16550: Linux's 8250 console driver reads the line status before
 * every byte it writes until a program opens the port, one VM exit a byte, and the boot log it
 * replays when its console registers is some ten thousand bytes. Linux hands this device its
 * console output 16 bytes a notification, and a program's writes a page at a time.
 *
 * <p>Output goes to {@code output} as the guest hands it over, at most {@link #MAX_CHAIN_OUTPUT} bytes
 * of a chain (a Linux driver sends a page at most; a guest that offers more gets the rest dropped, so a
 * chain costs the VMM a bounded copy). Input waits in a buffer of {@link #INPUT_LIMIT} bytes until the
 * guest has receive buffers posted; what does not fit is dropped, as a UART drops what overflows its FIFO.
 *
 * <p>Every call into the device comes under its transport's lock, input from a console's thread
 * included ({@link #onInput}'s kick runs the receive queue through the transport); the pending input has
 * its own lock, taken inside the transport's and never around it.
 */
public final class VirtioConsole implements VirtioDevice {
    public static final int DEVICE_ID = 3;
    public static final int RX = 0, TX = 1;
    public static final int QUEUE_SIZE = 128;
    /** Input kept while the guest has no receive buffer posted. */
    public static final int INPUT_LIMIT = 4096;
    /** Most bytes of one transmit chain passed on. */
    public static final int MAX_CHAIN_OUTPUT = 64 * 1024;

    private final Consumer<byte[]> output;
    private final Object inputLock = new Object();
    private final byte[] input = new byte[INPUT_LIMIT];
    private int inputCount;
    private long droppedInput;
    private volatile Runnable kick = () -> { };

    private GuestMemory memory;
    private List<VirtQueue> queues = List.of();
    private UsedSignal signal;
    /** While a snapshot is taken: no ring is touched, input waits. */
    private boolean held;

    /** @param output where the guest's console output goes (the VM's console) */
    public VirtioConsole(Consumer<byte[]> output) {
        this.output = output;
    }

    /** What runs the receive queue once input arrives: the transport's {@code processQueue(RX)}. */
    public void onInput(Runnable kick) {
        this.kick = kick;
    }

    /** Queues bytes typed on the console for the guest; returns how many were kept. Safe from any thread. */
    public int enqueueInput(byte[] bytes) {
        int kept;
        synchronized (inputLock) {
            kept = Math.min(bytes.length, INPUT_LIMIT - inputCount);
            System.arraycopy(bytes, 0, input, inputCount, kept);
            inputCount += kept;
            droppedInput += bytes.length - kept;
        }
        if (kept > 0) {
            kick.run();
        }
        return kept;
    }

    /** Input bytes dropped because the guest read none for a while. */
    public long droppedInput() {
        synchronized (inputLock) {
            return droppedInput;
        }
    }

    @Override
    public int deviceType() {
        return DEVICE_ID;
    }

    @Override
    public long deviceFeatures() {
        // No VIRTIO_CONSOLE_F_SIZE, MULTIPORT or EMERG_WRITE: one port, the guest's console.
        return Virtio.bit(Virtio.F_VERSION_1);
    }

    @Override
    public List<Integer> queueMaxSizes() {
        return List.of(QUEUE_SIZE, QUEUE_SIZE);
    }

    @Override
    public void readConfig(long offset, byte[] data) {
        Arrays.fill(data, (byte) 0);   // cols, rows, max_nr_ports: read only with features not offered
    }

    @Override
    public void writeConfig(long offset, byte[] data) {
    }

    @Override
    public void activate(GuestMemory memory, long features, List<VirtQueue> queues, UsedSignal signal)
            throws VirtioException {
        this.memory = memory;
        this.queues = queues.size() == 2 ? queues : List.of();
        this.signal = signal;
        if (!this.queues.isEmpty()) {
            deliverInput();
        }
    }

    @Override
    public void processQueue(int index) throws VirtioException {
        if (queues.isEmpty() || held) {
            return;
        }
        if (index == TX) {
            transmit();
        }
        // A notification on the receive queue brings buffers; input may be waiting for them.
        deliverInput();
    }

    private void transmit() throws VirtioException {
        VirtQueue q = queues.get(TX);
        if (!q.active()) {
            return;
        }
        boolean used = false;
        do {
            DescriptorChain chain;
            while ((chain = q.pop()) != null) {
                emit(chain);
                q.addUsed(chain.head(), 0);
                used = true;
            }
        } while (q.enableNotification());
        if (used && q.needsInterrupt()) {
            signal.usedBuffers();
        }
    }

    private void emit(DescriptorChain chain) {
        long budget = MAX_CHAIN_OUTPUT;
        for (DescriptorChain.Buffer b : chain.buffers()) {
            if (b.writable() || b.length() == 0) {
                continue;   // a writable buffer in a transmit chain carries nothing for us
            }
            int n = (int) Math.min(b.length(), budget);
            if (n == 0) {
                return;
            }
            byte[] bytes = new byte[n];
            memory.read(b.address(), bytes);
            output.accept(bytes);
            budget -= n;
        }
    }

    private void deliverInput() throws VirtioException {
        VirtQueue q = queues.get(RX);
        if (!q.active()) {
            return;
        }
        boolean used = false;
        synchronized (inputLock) {
            while (inputCount > 0) {
                DescriptorChain chain = q.pop();
                if (chain == null && !q.enableNotification()) {
                    break;
                }
                if (chain == null) {
                    continue;
                }
                int written = fill(chain);
                q.addUsed(chain.head(), written);
                used = true;
                System.arraycopy(input, written, input, 0, inputCount - written);
                inputCount -= written;
            }
        }
        if (used && q.needsInterrupt()) {
            signal.usedBuffers();
        }
    }

    /** Writes the waiting input into the chain's writable buffers, in order; returns how much. */
    private int fill(DescriptorChain chain) {
        int done = 0;
        for (DescriptorChain.Buffer b : chain.buffers()) {
            if (!b.writable()) {
                continue;
            }
            int n = (int) Math.min(b.length(), inputCount - done);
            if (n == 0) {
                break;
            }
            memory.write(b.address(), input, done, n);
            done += n;
        }
        return done;
    }

    @Override
    public void reset() {
        memory = null;
        queues = List.of();
        signal = null;
        held = false;
    }

    @Override
    public void beforeSnapshot() {
        held = true;
    }

    @Override
    public void afterSnapshot() {
        held = false;
        boolean waiting;
        synchronized (inputLock) {
            waiting = inputCount > 0;
        }
        if (waiting) {
            kick.run();
        }
    }

    @Override
    public void close() {
    }
}
