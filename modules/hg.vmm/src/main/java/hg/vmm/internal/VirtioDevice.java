package hg.vmm.internal;

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

    /** Releases host resources (files, locks). */
    @Override
    void close();
}
