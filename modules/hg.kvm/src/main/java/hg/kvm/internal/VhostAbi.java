package hg.kvm.internal;

import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;
import java.util.LinkedHashMap;
import java.util.Map;

import static java.lang.foreign.MemoryLayout.structLayout;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The vhost ABI (linux/vhost.h, linux/vhost_types.h) in one place: the structs /dev/vhost-net
 * takes, written by hand with their C member names so a test checks them against gcc, and the
 * ioctl request numbers computed like the kernel's _IO/_IOR/_IOW/_IOWR macros.
 */
public final class VhostAbi {
    private VhostAbi() {}

    private static final IoctlType VHOST_VIRTIO = new IoctlType(0xAF);

    private static MemoryLayout u32(String n) { return JAVA_INT.withName(n); }
    private static MemoryLayout u64(String n) { return JAVA_LONG.withName(n); }

    public static final StructLayout VHOST_VRING_STATE = structLayout(u32("index"), u32("num"))
            .withName("vhost_vring_state");

    public static final StructLayout VHOST_VRING_FILE = structLayout(u32("index"), u32("fd"))
            .withName("vhost_vring_file");

    public static final StructLayout VHOST_VRING_ADDR = structLayout(
            u32("index"), u32("flags"), u64("desc_user_addr"), u64("used_user_addr"), u64("avail_user_addr"),
            u64("log_guest_addr")).withName("vhost_vring_addr");

    public static final StructLayout VHOST_MEMORY_REGION = structLayout(
            u64("guest_phys_addr"), u64("memory_size"), u64("userspace_addr"), u64("flags_padding"))
            .withName("vhost_memory_region");

    /** Header of vhost_memory; {@code regions[nregions]} follow. */
    public static final StructLayout VHOST_MEMORY = structLayout(u32("nregions"), u32("padding"))
            .withName("vhost_memory");

    public static final long VHOST_GET_FEATURES = VHOST_VIRTIO.ior(0x00, 8);
    public static final long VHOST_SET_FEATURES = VHOST_VIRTIO.iow(0x00, 8);
    public static final long VHOST_SET_OWNER = VHOST_VIRTIO.io(0x01);
    public static final long VHOST_SET_MEM_TABLE = VHOST_VIRTIO.iow(0x03, VHOST_MEMORY.byteSize());
    public static final long VHOST_SET_VRING_NUM = VHOST_VIRTIO.iow(0x10, VHOST_VRING_STATE.byteSize());
    public static final long VHOST_SET_VRING_ADDR = VHOST_VIRTIO.iow(0x11, VHOST_VRING_ADDR.byteSize());
    public static final long VHOST_SET_VRING_BASE = VHOST_VIRTIO.iow(0x12, VHOST_VRING_STATE.byteSize());
    public static final long VHOST_GET_VRING_BASE = VHOST_VIRTIO.iowr(0x12, VHOST_VRING_STATE.byteSize());
    public static final long VHOST_SET_VRING_KICK = VHOST_VIRTIO.iow(0x20, VHOST_VRING_FILE.byteSize());
    public static final long VHOST_SET_VRING_CALL = VHOST_VIRTIO.iow(0x21, VHOST_VRING_FILE.byteSize());
    public static final long VHOST_SET_VRING_ERR = VHOST_VIRTIO.iow(0x22, VHOST_VRING_FILE.byteSize());
    public static final long VHOST_NET_SET_BACKEND = VHOST_VIRTIO.iow(0x30, VHOST_VRING_FILE.byteSize());

    /** The fd value that detaches a ring's backend or eventfd. */
    public static final int VHOST_FILE_UNBIND = -1;
    /** Feature bit: vhost itself adds and strips the virtio-net header (we leave it to the TAP). */
    public static final int VHOST_NET_F_VIRTIO_NET_HDR = 27;
    public static final int VHOST_F_LOG_ALL = 26;

    /** Every struct by its C name, for the layout test. */
    public static Map<String, GroupLayout> layouts() {
        Map<String, GroupLayout> m = new LinkedHashMap<>();
        for (GroupLayout g : new GroupLayout[] {VHOST_VRING_STATE, VHOST_VRING_FILE, VHOST_VRING_ADDR,
                VHOST_MEMORY_REGION, VHOST_MEMORY}) {
            m.put(g.name().orElseThrow(), g);
        }
        return m;
    }

    /** Every request number and constant by its C macro name, for the test that checks them against gcc. */
    public static Map<String, Long> constants() {
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("VHOST_GET_FEATURES", VHOST_GET_FEATURES);
        m.put("VHOST_SET_FEATURES", VHOST_SET_FEATURES);
        m.put("VHOST_SET_OWNER", VHOST_SET_OWNER);
        m.put("VHOST_SET_MEM_TABLE", VHOST_SET_MEM_TABLE);
        m.put("VHOST_SET_VRING_NUM", VHOST_SET_VRING_NUM);
        m.put("VHOST_SET_VRING_ADDR", VHOST_SET_VRING_ADDR);
        m.put("VHOST_SET_VRING_BASE", VHOST_SET_VRING_BASE);
        m.put("VHOST_GET_VRING_BASE", VHOST_GET_VRING_BASE);
        m.put("VHOST_SET_VRING_KICK", VHOST_SET_VRING_KICK);
        m.put("VHOST_SET_VRING_CALL", VHOST_SET_VRING_CALL);
        m.put("VHOST_SET_VRING_ERR", VHOST_SET_VRING_ERR);
        m.put("VHOST_NET_SET_BACKEND", VHOST_NET_SET_BACKEND);
        m.put("VHOST_FILE_UNBIND", (long) VHOST_FILE_UNBIND);
        m.put("VHOST_NET_F_VIRTIO_NET_HDR", (long) VHOST_NET_F_VIRTIO_NET_HDR);
        m.put("VHOST_F_LOG_ALL", (long) VHOST_F_LOG_ALL);
        return m;
    }
}
