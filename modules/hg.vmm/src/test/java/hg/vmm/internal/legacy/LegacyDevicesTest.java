package hg.vmm.internal.legacy;

import hg.vmm.internal.pseudo.DebugExitPort;
import hg.vmm.internal.bus.CountingTrigger;
import hg.vmm.StopReason;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LegacyDevicesTest {

    final CountingTrigger kbdIrq = new CountingTrigger();
    final List<StopReason> stops = new ArrayList<>();
    final I8042 i8042 = new I8042(kbdIrq, stops::add);

    int in(int port) {
        byte[] b = new byte[1];
        i8042.read(port - I8042.BASE_PORT, b);
        return b[0] & 0xff;
    }

    void out(int port, int v) {
        i8042.write(port - I8042.BASE_PORT, new byte[] {(byte) v});
    }

    @Test
    void controllerPassesLinuxProbe() {
        assertEquals(0, in(0x64) & 0x03);   // nothing to read, ready for input
        out(0x64, 0xaa);
        assertEquals(1, in(0x64) & 0x01);
        assertEquals(0x55, in(0x60));
        assertEquals(0, in(0x64) & 0x01);
        out(0x64, 0x20);
        int ctr = in(0x60);
        out(0x64, 0x60);
        out(0x60, ctr & ~0x01);
        out(0x64, 0x20);
        assertEquals(ctr & ~0x01, in(0x60));
        assertTrue(stops.isEmpty());
        assertEquals(0, kbdIrq.count());
    }

    @Test
    void keyboardCommandsAreAcknowledgedThroughIrq1() {
        out(0x60, 0xf2);   // identify
        assertEquals(1, kbdIrq.take());
        assertEquals(0xfa, in(0x60));
        assertEquals(1, kbdIrq.take());   // next byte, next interrupt
        assertEquals(0xab, in(0x60));
        assertEquals(0x83, in(0x60));
        assertEquals(0, in(0x64) & 0x01);
    }

    @Test
    void ctrlAltDelComesInTheScanCodeSetTheGuestReads() {
        assertTrue(i8042.pressCtrlAltDel());   // translating (the power-on command byte): set 1
        assertEquals(1, kbdIrq.take());
        List<Integer> keys = new ArrayList<>();
        while ((in(0x64) & 0x01) != 0) {
            keys.add(in(0x60));
        }
        assertEquals(List.of(0x1d, 0x38, 0xe0, 0x53), keys);
        out(0x64, 0x60);
        out(0x60, 0x05);                        // translation off: set 2, as Firecracker sends
        assertTrue(i8042.pressCtrlAltDel());
        keys.clear();
        while ((in(0x64) & 0x01) != 0) {
            keys.add(in(0x60));
        }
        assertEquals(List.of(0x14, 0x11, 0xe0, 0x71), keys);
        for (int i = 0; i < 4; i++) {
            assertTrue(i8042.pressCtrlAltDel());
        }
        assertEquals(false, i8042.pressCtrlAltDel());   // a full buffer takes no half key press
        assertTrue(stops.isEmpty());
    }

    @Test
    void resetPulseStopsTheVm() {
        out(0x64, 0xfe);
        assertEquals(List.of(new StopReason.GuestReset()), stops);
    }

    @Test
    void outputPortResetLineStopsTheVm() {
        out(0x64, 0xd1);
        out(0x60, 0x02);
        assertEquals(List.of(new StopReason.GuestReset()), stops);
    }

    @Test
    void debugExitCarriesTheCode() {
        List<StopReason> got = new ArrayList<>();
        DebugExitPort port = new DebugExitPort(got::add);
        port.write(0, new byte[] {42});
        port.write(0, new byte[] {0x34, 0x12});
        assertEquals(List.of(new StopReason.DebugExit(42), new StopReason.DebugExit(0x1234)), got);
    }
}
