package hg.vmm.internal.virtio;

import hg.kvm.GuestMemory;

import java.util.List;

/**
 * A virtio device behind a transport. The transport owns the status handshake, feature
 * negotiation and queue registers; the device owns its config space and request handling.
 * Calls come serialised by the transport.
 */
public interface VirtioDevice extends AutoCloseable {

    /** Raised by a device when it returned buffers to the driver. */
    @FunctionalInterface
    interface UsedSignal {
        void usedBuffers();

        /** The device found, outside a queue notification, that the driver broke a queue. */
        default void failed(String why) {
        }
    }

    int deviceType();

    /** Feature bits the device offers (including the ring features it supports). */
    long deviceFeatures();

    /** Maximum size of each queue; the list's length is the number of queues. */
    List<Integer> queueMaxSizes();

    void readConfig(long offset, byte[] data);

    void writeConfig(long offset, byte[] data);

    /** The driver set DRIVER_OK: the queues are configured and activated. */
    void activate(GuestMemory memory, long features, List<VirtQueue> queues, UsedSignal signal) throws VirtioException;

    /** The driver notified queue {@code index} (or the I/O loop woke for it). */
    void processQueue(int index) throws VirtioException;

    /** The driver reset the device: forget queues and negotiated state. */
    void reset();

    /**
     * True while something outside the transport (vhost-net on the device's irqfd) raises the
     * used-buffer interrupts: the transport then reports that bit as pending on every read, as
     * it cannot see those interrupts. Read without the transport's lock.
     */
    default boolean signalsDirectly() {
        return false;
    }

    /**
     * Before a snapshot, with the vCPUs and the I/O thread held: take back whatever serves the
     * queues outside this process, so the queues' positions here are the true ones.
     */
    default void beforeSnapshot() {
    }

    /** After a snapshot of a VM that goes on running. */
    default void afterSnapshot() {
    }

    /** Releases host resources (files, locks). */
    @Override
    void close();
}
