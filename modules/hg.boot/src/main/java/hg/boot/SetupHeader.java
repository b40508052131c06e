package hg.boot;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * The Linux boot protocol's setup header as it sits in {@code boot_params} from offset 0x1f1:
 * copied from a bzImage, or filled in for a vmlinux (which carries none). Field accessors use
 * the offsets of the boot protocol (Documentation/arch/x86/boot.rst) within the zero page.
 */
public final class SetupHeader {

    /** Offset of the setup header within boot_params. */
    public static final int OFFSET = 0x1f1;
    /** End of the room boot_params reserves for the setup header. */
    public static final int LIMIT = 0x290;

    public static final int LOADED_HIGH = 0x01;
    public static final int CAN_USE_HEAP = 0x80;
    public static final int XLF_KERNEL_64 = 0x01;
    public static final int XLF_CAN_BE_LOADED_ABOVE_4G = 0x02;
    public static final int MAGIC_HDRS = 0x53726448; // "HdrS" little-endian
    public static final int BOOT_FLAG = 0xAA55;
    /**
     * The command line limit assumed for a vmlinux: x86 Linux's COMMAND_LINE_SIZE (2048) less the
     * NUL, the value its bzImage header reports as cmdline_size.
     */
    public static final int VMLINUX_CMDLINE_SIZE = 2047;

    private final byte[] bytes; // boot_params[OFFSET, LIMIT), zero beyond length
    private final int length;   // bytes taken from the kernel (or filled)

    private SetupHeader(byte[] bytes, int length) {
        this.bytes = bytes;
        this.length = length;
    }

    /** A header taken from {@code length} bytes that a bzImage holds at file offset 0x1f1. */
    static SetupHeader copyOf(byte[] fromFile, int length) {
        byte[] b = new byte[LIMIT - OFFSET];
        System.arraycopy(fromFile, 0, b, 0, length);
        return new SetupHeader(b, length);
    }

    /** The header a vmlinux gets: protocol 2.15 fields a 64-bit Linux reads, with x86's defaults. */
    static SetupHeader forVmlinux() {
        SetupHeader h = new SetupHeader(new byte[LIMIT - OFFSET], 0x268 - OFFSET);
        h.put16(0x1fe, BOOT_FLAG);
        h.put8(0x200, 0xeb);              // the jump over the header gives its length
        h.put8(0x201, 0x268 - 0x202);
        h.put32(0x202, MAGIC_HDRS);
        h.put16(0x206, 0x020f);
        h.put8(0x210, 0xff);              // type_of_loader: undefined loader
        h.put8(0x211, LOADED_HIGH);
        h.put32(0x22c, 0x7fffffff);       // initrd_addr_max
        h.put32(0x230, 0x1000000);        // kernel_alignment
        h.put16(0x236, XLF_KERNEL_64);
        h.put32(0x238, VMLINUX_CMDLINE_SIZE);
        return h;
    }

    /** The header bytes to place at boot_params + 0x1f1. */
    public byte[] bytes() {
        return Arrays.copyOf(bytes, length);
    }

    public int setupSects() {
        int s = u8(0x1f1);
        return s == 0 ? 4 : s;
    }

    /** Size of the protected-mode code in 16-byte paragraphs, as the kernel build recorded it. */
    public long sysSize() {
        return Integer.toUnsignedLong(u32(0x1f4));
    }

    public int bootFlag() {
        return u16(0x1fe);
    }

    public int magic() {
        return u32(0x202);
    }

    /** Boot protocol version, e.g. 0x020f for 2.15. */
    public int version() {
        return u16(0x206);
    }

    public int loadFlags() {
        return u8(0x211);
    }

    public long code32Start() {
        return Integer.toUnsignedLong(u32(0x214));
    }

    public long initrdAddrMax() {
        return version() >= 0x0203 ? Integer.toUnsignedLong(u32(0x22c)) : 0x37ffffffL;
    }

    public long kernelAlignment() {
        return version() >= 0x0205 ? Integer.toUnsignedLong(u32(0x230)) : 0;
    }

    public boolean relocatable() {
        return version() >= 0x0205 && u8(0x234) != 0;
    }

    public int xloadFlags() {
        return version() >= 0x020c ? u16(0x236) : 0;
    }

    /** The longest command line the kernel takes, without its terminating NUL. */
    public long cmdlineSize() {
        return version() >= 0x0206 ? Integer.toUnsignedLong(u32(0x238)) : 255;
    }

    public long prefAddress() {
        return version() >= 0x020a ? buf().getLong(0x258 - OFFSET) : 0;
    }

    public long initSize() {
        return version() >= 0x020a ? Integer.toUnsignedLong(u32(0x260)) : 0;
    }

    private ByteBuffer buf() {
        return ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }

    private int u8(int off) {
        return Byte.toUnsignedInt(bytes[off - OFFSET]);
    }

    private int u16(int off) {
        return Short.toUnsignedInt(buf().getShort(off - OFFSET));
    }

    private int u32(int off) {
        return buf().getInt(off - OFFSET);
    }

    private void put8(int off, int v) {
        bytes[off - OFFSET] = (byte) v;
    }

    private void put16(int off, int v) {
        buf().putShort(off - OFFSET, (short) v);
    }

    private void put32(int off, int v) {
        buf().putInt(off - OFFSET, v);
    }

    @Override
    public String toString() {
        return String.format("SetupHeader[version=%d.%02d, loadflags=0x%x, xloadflags=0x%x, cmdline_size=%d, "
                        + "pref_address=0x%x, init_size=0x%x]", version() >> 8, version() & 0xff, loadFlags(),
                xloadFlags(), cmdlineSize(), prefAddress(), initSize());
    }
}
