package hg.host.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.LongRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

class Ext4ProbeTest {
    /** A superblock with the fields the probe reads. */
    static byte[] superblock(long blocks, int logBlockSize, int compat, int incompat, String label) {
        ByteBuffer b = ByteBuffer.allocate(1024).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0x04, (int) blocks);
        b.putInt(0x18, logBlockSize);
        b.putShort(0x38, (short) 0xEF53);
        b.putInt(0x5C, compat);
        b.putInt(0x60, incompat);
        b.putInt(0x150, (int) (blocks >>> 32));
        byte[] l = label.getBytes(StandardCharsets.UTF_8);
        b.put(0x78, l, 0, Math.min(16, l.length));
        return b.array();
    }

    @Test
    void readsTypeAndLabel() {
        var r = assertInstanceOf(Ext4Probe.Filesystem.class,
                Ext4Probe.probe(superblock(8192, 0, 0x4, 0x2C2, "ROOTFS"), 8L << 20));
        assertEquals(new Ext4Probe.Filesystem("ext4", "ROOTFS", 8L << 20), r);
        assertEquals("ext3", ((Ext4Probe.Filesystem) Ext4Probe.probe(superblock(100, 2, 0x4, 0x2, ""), 1 << 20)).type());
        assertEquals("ext2", ((Ext4Probe.Filesystem) Ext4Probe.probe(superblock(100, 2, 0, 0x2, ""), 1 << 20)).type());
        assertEquals("sixteen-chars-ab",
                ((Ext4Probe.Filesystem) Ext4Probe.probe(superblock(100, 2, 0, 0x40, "sixteen-chars-ab"), 1 << 20)).label());
    }

    @Test
    void refusesWhatIsNotAWholeExtFilesystem() {
        byte[] sb = superblock(8192, 0, 0, 0x40, "x");
        sb[0x38] = 0;
        assertTrue(((Ext4Probe.NotExt) Ext4Probe.probe(sb, 8L << 20)).reason().startsWith("not an ext4 image (no superblock magic 0xEF53"));
        assertEquals("truncated ext4 image (the filesystem needs 8 MiB, the file has 4 MiB)",
                ((Ext4Probe.NotExt) Ext4Probe.probe(superblock(8192, 0, 0, 0x40, ""), 4L << 20)).reason());
        assertInstanceOf(Ext4Probe.NotExt.class, Ext4Probe.probe(superblock(0, 0, 0, 0x40, ""), 4L << 20));
        assertInstanceOf(Ext4Probe.NotExt.class, Ext4Probe.probe(superblock(10, 40, 0, 0x40, ""), 4L << 20));
        assertInstanceOf(Ext4Probe.NotExt.class, Ext4Probe.probe(new byte[10], 1034));
    }

    @Test
    void theHighBlockCountCountsOnlyWith64BitFeature() {
        byte[] sb = superblock((1L << 32) + 1, 2, 0, 0x40, "");
        // without INCOMPAT_64BIT the high half is ignored: 1 block of 4 KiB
        assertInstanceOf(Ext4Probe.Filesystem.class, Ext4Probe.probe(sb, 8192));
        sb = superblock((1L << 32) + 1, 2, 0, 0xC0, "");
        assertInstanceOf(Ext4Probe.NotExt.class, Ext4Probe.probe(sb, 8192));
    }

    @Property(tries = 500)
    void anyBytesGiveAnAnswerNeverAnException(@ForAll @Size(max = 1100) byte[] bytes,
                                              @ForAll @LongRange(min = 0, max = 1L << 40) long fileSize) {
        Ext4Probe.probe(bytes, fileSize);
    }

    @Property(tries = 300)
    void anyBytesWithTheMagicGiveAnAnswer(@ForAll @Size(min = 1024, max = 1024) byte[] bytes,
                                          @ForAll @LongRange(min = 0, max = 1L << 40) long fileSize) {
        bytes[0x38] = 0x53;
        bytes[0x39] = (byte) 0xEF;
        Ext4Probe.Result r = Ext4Probe.probe(bytes, fileSize);
        if (r instanceof Ext4Probe.Filesystem fs) {
            assertTrue(fs.bytes() <= fileSize);
            assertTrue(fs.label().chars().noneMatch(Character::isISOControl));
        }
    }
}
