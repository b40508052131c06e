package hg.boot;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/** The 4 KiB {@code boot_params} structure of the Linux x86 boot protocol, with its field offsets. */
final class ZeroPage {
    static final int SIZE = 4096;
    static final int EXT_RAMDISK_IMAGE = 0x0c0;
    static final int EXT_RAMDISK_SIZE = 0x0c4;
    static final int EXT_CMD_LINE_PTR = 0x0c8;
    static final int E820_ENTRIES = 0x1e8;
    static final int TYPE_OF_LOADER = 0x210;
    static final int LOADFLAGS = 0x211;
    static final int RAMDISK_IMAGE = 0x218;
    static final int RAMDISK_SIZE = 0x21c;
    static final int CMD_LINE_PTR = 0x228;
    static final int HARDWARE_SUBARCH = 0x23c;
    static final int E820_TABLE = 0x2d0;
    static final int E820_ENTRY_SIZE = 20;
    static final int E820_MAX_ENTRIES = 128;

    private ZeroPage() {
    }

    static byte[] build(SetupHeader header, long cmdline, List<E820Entry> e820, long initrdAddress, long initrdSize) {
        byte[] page = new byte[SIZE];
        ByteBuffer b = ByteBuffer.wrap(page).order(ByteOrder.LITTLE_ENDIAN);
        byte[] h = header.bytes();
        System.arraycopy(h, 0, page, SetupHeader.OFFSET, h.length);
        b.put(TYPE_OF_LOADER, (byte) 0xff);
        // No heap_end_ptr is given, so the kernel must not assume a setup heap.
        b.put(LOADFLAGS, (byte) (header.loadFlags() & ~SetupHeader.CAN_USE_HEAP));
        b.putInt(CMD_LINE_PTR, (int) cmdline);
        b.putInt(EXT_CMD_LINE_PTR, (int) (cmdline >>> 32));
        b.putInt(RAMDISK_IMAGE, (int) initrdAddress);
        b.putInt(EXT_RAMDISK_IMAGE, (int) (initrdAddress >>> 32));
        b.putInt(RAMDISK_SIZE, (int) initrdSize);
        b.putInt(EXT_RAMDISK_SIZE, (int) (initrdSize >>> 32));
        b.putInt(HARDWARE_SUBARCH, 0); // a PC
        b.put(E820_ENTRIES, (byte) e820.size());
        for (int i = 0; i < e820.size(); i++) {
            E820Entry e = e820.get(i);
            int at = E820_TABLE + i * E820_ENTRY_SIZE;
            b.putLong(at, e.address());
            b.putLong(at + 8, e.size());
            b.putInt(at + 16, e.type());
        }
        return page;
    }
}
