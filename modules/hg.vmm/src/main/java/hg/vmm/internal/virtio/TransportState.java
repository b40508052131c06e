package hg.vmm.internal.virtio;

import java.util.Arrays;
import java.util.List;

/**
 * A virtio-mmio transport and its device as a snapshot keeps them. {@code deviceType} and
 * {@code config} (the device's config space as the driver reads it) are not restored but
 * compared: a restore onto a device that differs (another disk size, another MAC) is refused.
 *
 * @param failure why the device needed a reset, or empty
 */
public record TransportState(int deviceType, byte[] config, int status, int deviceFeaturesSel, int driverFeaturesSel,
                             long driverFeatures, int queueSel, int interruptStatus, int configGeneration,
                             String failure, List<QueueState> queues) {
    /** Config space compared on restore: every device here has less. */
    public static final int CONFIG_BYTES = 256;
    /** A failure line is kept to this many characters. */
    public static final int FAILURE_CHARS = 512;

    public TransportState {
        if (config.length > CONFIG_BYTES) {
            throw new IllegalArgumentException("config space of " + config.length + " bytes exceeds " + CONFIG_BYTES);
        }
        if ((status & ~0xff) != 0) {
            throw new IllegalArgumentException("device status 0x" + Integer.toHexString(status) + " is not 8 bits");
        }
        if (failure.length() > FAILURE_CHARS) {
            throw new IllegalArgumentException("failure line longer than " + FAILURE_CHARS);
        }
        config = config.clone();
        queues = List.copyOf(queues);
    }

    @Override
    public byte[] config() {
        return config.clone();
    }

    /** The same state over another config space: a clone's network card, which has a MAC of its own. */
    public TransportState withConfig(byte[] newConfig) {
        return new TransportState(deviceType, newConfig, status, deviceFeaturesSel, driverFeaturesSel, driverFeatures,
                queueSel, interruptStatus, configGeneration, failure, queues);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TransportState t && deviceType == t.deviceType && Arrays.equals(config, t.config)
                && status == t.status && deviceFeaturesSel == t.deviceFeaturesSel && driverFeaturesSel == t.driverFeaturesSel
                && driverFeatures == t.driverFeatures && queueSel == t.queueSel && interruptStatus == t.interruptStatus
                && configGeneration == t.configGeneration && failure.equals(t.failure) && queues.equals(t.queues);
    }

    @Override
    public int hashCode() {
        return (deviceType * 31 + Arrays.hashCode(config)) * 31 + queues.hashCode() + Long.hashCode(driverFeatures) + status;
    }
}
