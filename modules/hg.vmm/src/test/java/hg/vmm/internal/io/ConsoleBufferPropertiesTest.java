package hg.vmm.internal.io;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConsoleBufferPropertiesTest {

    @Property(tries = 300)
    void theHistoryIsTheLastCapacityBytesWrittenWhateverTheRingGrewThrough(
            @ForAll @IntRange(min = 1, max = 20_000) int capacity,
            @ForAll @Size(max = 12) List<@Size(max = 9_000) byte[]> writes) {
        ConsoleBuffer console = new ConsoleBuffer(capacity);
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        for (byte[] w : writes) {
            console.emit(w);
            all.writeBytes(w);
            byte[] sent = all.toByteArray();
            byte[] tail = Arrays.copyOfRange(sent, Math.max(0, sent.length - capacity), sent.length);
            assertArrayEquals(tail, console.history());
            assertTrue(console.ringLength() <= capacity, "ring " + console.ringLength() + " over " + capacity);
        }
        assertEquals(all.size(), console.totalOutput());
    }

    @Property(tries = 50)
    void aQuietConsoleHoldsOnlyItsFirstRing(@ForAll @IntRange(min = 0, max = ConsoleBuffer.FIRST_RING) int written) {
        ConsoleBuffer console = new ConsoleBuffer();
        console.emit(new byte[written]);
        assertEquals(ConsoleBuffer.FIRST_RING, console.ringLength());
        console.emit(new byte[1]);
        assertEquals(written == ConsoleBuffer.FIRST_RING ? 2 * ConsoleBuffer.FIRST_RING : ConsoleBuffer.FIRST_RING,
                console.ringLength());
    }
}
