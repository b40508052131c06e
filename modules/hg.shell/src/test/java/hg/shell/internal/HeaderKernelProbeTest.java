package hg.shell.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

class HeaderKernelProbeTest {
    /** The first bytes of an x86-64 ELF executable. */
    static byte[] elfHeader(int elfClass, int type, int machine) {
        ByteBuffer b = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {0x7F, 'E', 'L', 'F', (byte) elfClass, 1, 1});
        b.putShort(16, (short) type);
        b.putShort(18, (short) machine);
        return b.array();
    }

    /** The first bytes of a bzImage: boot flag 0xAA55 and the "HdrS" setup header magic. */
    static byte[] bzImageHeader() {
        ByteBuffer b = ByteBuffer.allocate(0x400).order(ByteOrder.LITTLE_ENDIAN);
        b.putShort(0x1FE, (short) 0xAA55);
        b.putInt(0x202, 0x53726448);
        b.putShort(0x206, (short) 0x020F);
        return b.array();
    }

    private static String classify(byte[] bytes) throws KernelProbe.NotAKernel {
        return HeaderKernelProbe.classify(ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN));
    }

    @Test
    void tellsVmlinuxAndBzImage() throws Exception {
        assertEquals("vmlinux", classify(elfHeader(2, 2, 0x3E)));
        assertEquals("bzImage", classify(bzImageHeader()));
    }

    @Test
    void namesWhatIsWrong() {
        assertTrue(assertThrows(KernelProbe.NotAKernel.class, () -> classify(elfHeader(1, 2, 3))).getMessage().contains("32-bit"));
        assertTrue(assertThrows(KernelProbe.NotAKernel.class, () -> classify(elfHeader(2, 2, 0xB7))).getMessage().contains("machine 0xB7"));
        assertTrue(assertThrows(KernelProbe.NotAKernel.class, () -> classify(elfHeader(2, 1, 0x3E))).getMessage().contains("not an executable"));
        assertTrue(assertThrows(KernelProbe.NotAKernel.class, () -> classify(new byte[10])).getMessage().contains("too short"));
        assertTrue(assertThrows(KernelProbe.NotAKernel.class, () -> classify(new byte[0x400])).getMessage().contains("neither"));
    }

    @Property(tries = 300)
    void anyBytesGiveAFormatOrAReason(@ForAll @Size(max = 0x300) byte[] bytes) {
        try {
            String f = classify(bytes);
            assertTrue(f.equals("vmlinux") || f.equals("bzImage"));
        } catch (KernelProbe.NotAKernel e) {
            assertTrue(!e.getMessage().isEmpty());
        }
    }
}
