package hg.vmm;

/**
 * A VM's console: the guest's output (its virtio console's and its UART's) is kept in a bounded history
 * (the last 64 KiB) and passed to every attached listener; input goes to its console devices.
 */
public interface Console {

    /** Receives console output. Called on the thread that produced it: keep it short. */
    interface Listener {
        void output(byte[] bytes);

        /** The VM stopped: no more output will come. */
        default void ended() {
        }
    }

    /** An attached listener; closing it detaches. Idempotent. */
    interface Attachment extends AutoCloseable {
        @Override
        void close();
    }

    /**
     * Replays the history to {@code listener}, then streams live output to it until the
     * attachment is closed. No byte is lost or repeated between replay and live output.
     */
    Attachment attach(Listener listener);

    /** Queues bytes for the guest to read from its console (as if typed). */
    void input(byte[] bytes);

    /** A copy of the kept output, oldest byte first. */
    byte[] history();
}
