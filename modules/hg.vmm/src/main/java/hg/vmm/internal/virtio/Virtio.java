package hg.vmm.internal.virtio;

/** Numbers from the virtio 1.2 specification shared by the transport and the devices. */
public final class Virtio {
    private Virtio() {
    }

    // Device status bits.
    public static final int STATUS_ACKNOWLEDGE = 1;
    public static final int STATUS_DRIVER = 2;
    public static final int STATUS_DRIVER_OK = 4;
    public static final int STATUS_FEATURES_OK = 8;
    public static final int STATUS_DEVICE_NEEDS_RESET = 64;
    public static final int STATUS_FAILED = 128;

    // Feature bits independent of the device type.
    public static final int F_INDIRECT_DESC = 28;
    public static final int F_EVENT_IDX = 29;
    public static final int F_VERSION_1 = 32;

    // Descriptor flags.
    public static final int DESC_F_NEXT = 1;
    public static final int DESC_F_WRITE = 2;
    public static final int DESC_F_INDIRECT = 4;

    public static final int AVAIL_F_NO_INTERRUPT = 1;
    public static final int USED_F_NO_NOTIFY = 1;

    // Interrupt status bits.
    public static final int INTERRUPT_USED_BUFFER = 1;
    public static final int INTERRUPT_CONFIG_CHANGE = 2;

    public static final int DEVICE_ID_BLOCK = 2;

    public static long bit(int feature) {
        return 1L << feature;
    }
}
