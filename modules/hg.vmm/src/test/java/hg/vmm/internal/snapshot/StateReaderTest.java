package hg.vmm.internal.snapshot;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every read of {@link StateReader} stops at the end of its bytes and at its field's ceiling, naming the field. */
class StateReaderTest {

    interface Read {
        Object from(StateReader r) throws SnapshotFormatException;
    }

    record Field(String name, int width, Read read) {
    }

    static final List<Field> FIELDS = List.of(
            new Field("u8", 1, r -> r.u8("the u8")),
            new Field("bool", 1, r -> r.bool("the bool")),
            new Field("u16", 2, r -> r.u16("the u16")),
            new Field("u32", 4, r -> r.u32("the u32")),
            new Field("ranged u32", 4, r -> r.u32("the ranged u32", 0, 10)),
            new Field("u64", 8, r -> r.u64("the u64")),
            new Field("count", 4, r -> r.count("the", 10)),
            new Field("bytes", 4 + 3, r -> r.bytes("the bytes", 10)),
            new Field("exact bytes", 4 + 3, r -> r.bytesExactly("the exact bytes", 3)),
            new Field("string", 4 + 3, r -> r.string("the string", 10)));

    /** A valid encoding of each field: zeros for numbers, a 3 for the lengths, then three bytes. */
    static byte[] valid(Field f) {
        byte[] b = new byte[f.width()];
        if (f.width() == 7) {
            b[0] = 3;
            b[4] = 'a';
            b[5] = 'b';
            b[6] = 'c';
        }
        return b;
    }

    @Test
    void everyReadStopsAtTheEnd() throws Exception {
        for (Field f : FIELDS) {
            byte[] whole = valid(f);
            StateReader ok = new StateReader(whole);
            f.read().from(ok);
            ok.end();
            for (int n = 0; n < whole.length; n++) {
                StateReader r = new StateReader(Arrays.copyOf(whole, n));
                SnapshotFormatException e = assertThrows(SnapshotFormatException.class, () -> f.read().from(r), f.name());
                assertTrue(e.getMessage().startsWith("the state ends inside the "), e.getMessage());
                assertFalse(e.getMessage().contains("\n"));
            }
        }
    }

    @Test
    void afterAFailedReadNothingWasConsumedThatALaterReadCouldMisuse() throws Exception {
        StateReader r = new StateReader(new byte[] {1, 2, 3});
        assertThrows(SnapshotFormatException.class, () -> r.u32("word"));
        assertEquals(0x0201, r.u16("half"));
        assertEquals(3, r.u8("byte"));
        r.end();
    }

    @Test
    void trailingBytesAreRefused() throws Exception {
        StateReader r = new StateReader(new byte[] {1, 2});
        r.u8("one");
        SnapshotFormatException e = assertThrows(SnapshotFormatException.class, r::end);
        assertEquals("1 unexpected bytes after the state", e.getMessage());
    }

    @Test
    void boundsAreUnsignedAndInclusive() throws Exception {
        byte[] max = new StateWriter().u32(-1).toByteArray();
        assertEquals(-1, new StateReader(max).u32("x"));
        SnapshotFormatException e = assertThrows(SnapshotFormatException.class,
                () -> new StateReader(max).u32("x", 0, Integer.MAX_VALUE));
        assertEquals("x is 4294967295, outside 0..2147483647", e.getMessage());
        assertThrows(SnapshotFormatException.class, () -> new StateReader(new StateWriter().u32(1 << 31).toByteArray())
                .count("huge", Integer.MAX_VALUE));
        assertEquals(10, new StateReader(new StateWriter().u32(10).toByteArray()).count("n", 10));
        assertThrows(SnapshotFormatException.class, () -> new StateReader(new StateWriter().u32(11).toByteArray()).count("n", 10));
        assertThrows(SnapshotFormatException.class, () -> new StateReader(new StateWriter().u32(0).toByteArray()).u32("n", 1, 2));
        assertEquals(2, new StateReader(new StateWriter().u32(2).toByteArray()).u32("n", 1, 2));
    }

    @Test
    void aLengthOverItsCeilingIsRefusedBeforeItsBytesAreLookedFor() {
        byte[] b = new StateWriter().u32(0x8000_0000).toByteArray();
        SnapshotFormatException e = assertThrows(SnapshotFormatException.class, () -> new StateReader(b).bytes("blob", 100));
        assertEquals("blob length is 2147483648, outside 0..100", e.getMessage());
        e = assertThrows(SnapshotFormatException.class, () -> new StateReader(new StateWriter().bytes(new byte[2]).toByteArray())
                .bytesExactly("page", 3));
        assertEquals("page has 2 bytes, not 3", e.getMessage());
        e = assertThrows(SnapshotFormatException.class, () -> new StateReader(new StateWriter().bytes(new byte[4]).toByteArray())
                .bytesExactly("page", 3));
        assertEquals("page length is 4, outside 0..3", e.getMessage());
    }

    @Test
    void booleansAreZeroOrOne() throws Exception {
        StateReader r = new StateReader(new byte[] {0, 1, 2});
        assertFalse(r.bool("a"));
        assertTrue(r.bool("b"));
        SnapshotFormatException e = assertThrows(SnapshotFormatException.class, () -> r.bool("c"));
        assertEquals("c is 2, not a boolean", e.getMessage());
    }

    @Test
    void stringsAreStrictUtf8() {
        // Overlong '/', a lone surrogate spelled in UTF-8, a cut sequence, a stray continuation byte.
        for (byte[] bad : List.of(new byte[] {(byte) 0xc0, (byte) 0xaf}, new byte[] {(byte) 0xed, (byte) 0xa0, (byte) 0x80},
                new byte[] {(byte) 0xe2, (byte) 0x82}, new byte[] {(byte) 0x80})) {
            byte[] b = new StateWriter().bytes(bad).toByteArray();
            SnapshotFormatException e = assertThrows(SnapshotFormatException.class, () -> new StateReader(b).string("name", 10));
            assertEquals("name is not UTF-8", e.getMessage());
        }
    }

    @Property(tries = 100)
    void whatTheWriterWritesTheReaderReads(@ForAll int u8, @ForAll int u16, @ForAll int u32, @ForAll long u64,
                                           @ForAll boolean bool, @ForAll @Size(max = 300) byte[] bytes,
                                           @ForAll @Size(max = 40) List<Character> chars) throws Exception {
        String s = chars.stream().filter(c -> !Character.isSurrogate(c)).map(String::valueOf).reduce("", String::concat);
        byte[] b = new StateWriter().u8(u8).u16(u16).u32(u32).u64(u64).bool(bool).bytes(bytes).string(s).toByteArray();
        assertEquals(1 + 2 + 4 + 8 + 1 + 4 + bytes.length + 4 + s.getBytes(StandardCharsets.UTF_8).length, b.length);
        StateReader r = new StateReader(b);
        assertEquals(u8 & 0xff, r.u8("a"));
        assertEquals(u16 & 0xffff, r.u16("b"));
        assertEquals(u32, r.u32("c"));
        assertEquals(u64, r.u64("d"));
        assertEquals(bool, r.bool("e"));
        assertArrayEquals(bytes, r.bytes("f", bytes.length));
        assertEquals(s, r.string("g", 40 * 3));
        r.end();
    }

    @Test
    void fieldsAreLittleEndian() {
        assertArrayEquals(new byte[] {0x34, 0x12, 0x78, 0x56, 0x34, 0x12, 8, 7, 6, 5, 4, 3, 2, 1},
                new StateWriter().u16(0x1234).u32(0x12345678).u64(0x0102030405060708L).toByteArray());
    }
}
