package hg.vmm.internal.bus;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BusTest {

    /** Records accesses as "r/w offset width". */
    static final class Recorder implements BusDevice {
        final List<String> log = new ArrayList<>();

        @Override
        public void read(long offset, byte[] data) {
            log.add("r " + offset + " " + data.length);
            data[0] = (byte) offset;
        }

        @Override
        public void write(long offset, byte[] data) {
            log.add("w " + offset + " " + data.length);
        }
    }

    @Test
    void dispatchesByRangeWithRelativeOffsets() {
        Bus bus = new Bus("pio");
        Recorder a = new Recorder();
        Recorder b = new Recorder();
        bus.register(0x3f8, 8, a);
        bus.register(0x60, 5, b);
        byte[] one = new byte[1];
        assertTrue(bus.read(0x3fd, one));
        assertEquals(5, one[0]);
        assertTrue(bus.write(0x64, new byte[] {(byte) 0xfe}));
        assertEquals(List.of("r 5 1"), a.log);
        assertEquals(List.of("w 4 1"), b.log);
    }

    @Test
    void unknownAddressesReadAllOnesAndDropWrites() {
        Bus bus = new Bus("pio");
        Recorder a = new Recorder();
        bus.register(0x3f8, 8, a);
        byte[] data = new byte[2];
        assertFalse(bus.read(0x80, data));
        assertArrayEquals(new byte[] {(byte) 0xff, (byte) 0xff}, data);
        assertFalse(bus.write(0x80, data));
        // An access that runs past the end of a device is not the device's.
        assertFalse(bus.read(0x3ff, new byte[2]));
        assertTrue(a.log.isEmpty());
    }

    @Test
    void refusesOverlapsAndBadRanges() {
        Bus bus = new Bus("mmio");
        bus.register(0x1000, 0x1000, new Recorder());
        assertThrows(BusConflictException.class, () -> bus.register(0x1fff, 1, new Recorder()));
        assertThrows(BusConflictException.class, () -> bus.register(0x0, 0x1001, new Recorder()));
        assertThrows(BusConflictException.class, () -> bus.register(0x800, 0x2000, new Recorder()));
        assertThrows(BusConflictException.class, () -> bus.register(0x5000, 0, new Recorder()));
        assertThrows(BusConflictException.class, () -> bus.register(Long.MAX_VALUE, 2, new Recorder()));
        bus.register(0x2000, 0x1000, new Recorder());   // adjacent is fine
        bus.register(0x0, 0x1000, new Recorder());
        assertTrue(bus.read(0x2fff, new byte[1]));
    }
}
