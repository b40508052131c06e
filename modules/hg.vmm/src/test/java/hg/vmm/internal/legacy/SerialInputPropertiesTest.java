package hg.vmm.internal.legacy;

import hg.vmm.internal.bus.CountingTrigger;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

import java.io.ByteArrayOutputStream;
import java.util.ArrayDeque;
import java.util.List;

import static hg.vmm.internal.legacy.Serial16550.DATA;
import static hg.vmm.internal.legacy.Serial16550.INPUT_LIMIT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SerialInputPropertiesTest {

    /**
     * Typed input, read by the guest in between, comes out in order and only what overflows the limit is
     * dropped, however the receive queue grew meanwhile; a snapshot of the waiting bytes restores them.
     */
    @Property(tries = 200)
    void inputComesOutInOrderAcrossTheQueuesGrowth(
            @ForAll @Size(max = 10) List<@Size(max = 40_000) byte[]> typed,
            @ForAll @Size(max = 10) List<@IntRange(max = 30_000) Integer> reads) {
        Serial16550 uart = new Serial16550(new CountingTrigger(), b -> { });
        ArrayDeque<Byte> expected = new ArrayDeque<>();
        for (int i = 0; i < typed.size(); i++) {
            byte[] t = typed.get(i);
            int room = INPUT_LIMIT - expected.size();
            assertEquals(Math.min(room, t.length), uart.enqueueInput(t));
            for (int j = 0; j < Math.min(room, t.length); j++) {
                expected.add(t[j]);
            }
            int n = i < reads.size() ? Math.min(reads.get(i), expected.size()) : 0;
            for (int j = 0; j < n; j++) {
                assertEquals((int) expected.poll() & 0xff, readData(uart));
            }
            assertEquals(expected.size(), uart.pendingInput());
            assertTrue(uart.receiveQueueSize() <= INPUT_LIMIT);
        }
        Serial16550 restored = new Serial16550(new CountingTrigger(), b -> { });
        restored.restore(uart.state());
        ByteArrayOutputStream rest = new ByteArrayOutputStream();
        while (restored.pendingInput() > 0) {
            rest.write(readData(restored));
        }
        ByteArrayOutputStream want = new ByteArrayOutputStream();
        expected.forEach(want::write);
        assertEquals(want.size(), rest.size());
        org.junit.jupiter.api.Assertions.assertArrayEquals(want.toByteArray(), rest.toByteArray());
    }

    @Property(tries = 20)
    void aConsoleNobodyTypesOnKeepsTheSmallQueue(@ForAll @IntRange(max = Serial16550.FIRST_RX) int typed) {
        Serial16550 uart = new Serial16550(new CountingTrigger(), b -> { });
        uart.enqueueInput(new byte[typed]);
        assertEquals(Serial16550.FIRST_RX, uart.receiveQueueSize());
    }

    private static int readData(Serial16550 uart) {
        byte[] b = new byte[1];
        uart.read(DATA, b);
        return b[0] & 0xff;
    }
}
