package hg.host.testkit;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** The smallest files that pass for guest kernels: an x86-64 ELF executable and a bzImage setup header. */
public final class KernelFixtures {
    private KernelFixtures() {}

    /** An ELF64 x86-64 executable with one PT_LOAD segment of 16 bytes at 16 MiB holding the entry. */
    public static byte[] vmlinux() {
        ByteBuffer b = ByteBuffer.allocate(0x1010).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {0x7F, 'E', 'L', 'F', 2, 1, 1});
        b.putShort(16, (short) 2);          // ET_EXEC
        b.putShort(18, (short) 62);         // EM_X86_64
        b.putInt(20, 1);
        b.putLong(24, 0x1000000);           // entry
        b.putLong(32, 64);                  // phoff
        b.putShort(52, (short) 64);
        b.putShort(54, (short) 56);
        b.putShort(56, (short) 1);
        int ph = 64;
        b.putInt(ph, 1);                    // PT_LOAD
        b.putInt(ph + 4, 5);
        b.putLong(ph + 8, 0x1000);          // offset
        b.putLong(ph + 16, 0xffffffff81000000L);
        b.putLong(ph + 24, 0x1000000);      // paddr
        b.putLong(ph + 32, 16);
        b.putLong(ph + 40, 16);
        b.putLong(ph + 48, 0x1000);
        b.put(0x1000, (byte) 0xF4);         // hlt
        return b.array();
    }

    /** A bzImage: boot protocol 2.15 setup header, 64-bit entry, one setup sector, then a little code. */
    public static byte[] bzImage() {
        ByteBuffer b = ByteBuffer.allocate(0x600).order(ByteOrder.LITTLE_ENDIAN);
        b.put(0x1f1, (byte) 1);              // setup_sects
        b.putShort(0x1fe, (short) 0xAA55);
        b.put(0x200, (byte) 0xEB);
        b.put(0x201, (byte) (0x268 - 0x202));
        b.putInt(0x202, 0x53726448);         // "HdrS"
        b.putShort(0x206, (short) 0x020F);
        b.put(0x211, (byte) 0x01);           // LOADED_HIGH
        b.putInt(0x230, 0x200000);           // kernel_alignment
        b.put(0x234, (byte) 1);              // relocatable
        b.putShort(0x236, (short) 0x3);      // XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G
        b.putInt(0x238, 2048);
        b.putLong(0x258, 0x1000000);         // pref_address
        b.putInt(0x260, 0x1000000);          // init_size
        b.put(0x400, (byte) 0xF4);
        return b.array();
    }

    /** An ELF for another machine (aarch64). */
    public static byte[] arm64Elf() {
        byte[] b = vmlinux();
        b[18] = (byte) 183;
        return b;
    }
}
