package hg.vmm.internal.virtio.net;

/** Bytes of Ethernet frames a guest's card received and sent (virtio-net header not counted). */
public record GuestTraffic(long rxBytes, long txBytes) {
    public static final GuestTraffic NONE = new GuestTraffic(0, 0);
}
