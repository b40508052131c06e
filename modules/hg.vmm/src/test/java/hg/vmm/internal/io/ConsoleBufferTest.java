package hg.vmm.internal.io;

import hg.vmm.Console;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConsoleBufferTest {

    static final class Collector implements Console.Listener {
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        boolean ended;

        @Override
        public void output(byte[] b) {
            bytes.writeBytes(b);
        }

        @Override
        public void ended() {
            ended = true;
        }

        String text() {
            return bytes.toString(StandardCharsets.US_ASCII);
        }
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    @Test
    void replaysHistoryThenStreamsLiveUntilDetached() {
        ConsoleBuffer console = new ConsoleBuffer(16);
        console.emit(ascii("boot "));
        Collector c = new Collector();
        Console.Attachment a = console.attach(c);
        console.emit(ascii("live"));
        a.close();
        a.close();
        console.emit(ascii(" gone"));
        assertEquals("boot live", c.text());
    }

    @Test
    void keepsOnlyTheLastCapacityBytes() {
        ConsoleBuffer console = new ConsoleBuffer(8);
        console.emit(ascii("0123456"));
        console.emit(ascii("789ab"));
        assertEquals("456789ab", new String(console.history(), StandardCharsets.US_ASCII));
        console.emit(ascii("ABCDEFGHIJKLMNOP"));
        assertEquals("IJKLMNOP", new String(console.history(), StandardCharsets.US_ASCII));
        assertEquals(28, console.totalOutput());
    }

    @Test
    void defaultCapacityIs64KiB() {
        ConsoleBuffer console = new ConsoleBuffer();
        byte[] big = new byte[100_000];
        for (int i = 0; i < big.length; i++) {
            big[i] = (byte) i;
        }
        console.emit(big);
        byte[] kept = console.history();
        assertEquals(64 * 1024, kept.length);
        assertEquals(big[big.length - 1], kept[kept.length - 1]);
        assertEquals(big[big.length - 65536], kept[0]);
    }

    @Test
    void inputGoesToTheConnectedSinkAndEndReachesListeners() {
        ConsoleBuffer console = new ConsoleBuffer();
        List<byte[]> got = new ArrayList<>();
        console.connectInput(got::add);
        console.input(ascii("ls\n"));
        assertArrayEquals(ascii("ls\n"), got.getFirst());
        Collector live = new Collector();
        console.attach(live);
        console.end();
        assertTrue(live.ended);
        Collector late = new Collector();
        console.attach(late);
        assertTrue(late.ended);
    }

    @Test
    void aThrowingListenerIsDetachedAndOthersGoOn() {
        ConsoleBuffer console = new ConsoleBuffer();
        console.attach(b -> {
            throw new IllegalStateException("terminal gone");
        });
        Collector c = new Collector();
        console.attach(c);
        console.emit(ascii("a"));
        console.emit(ascii("b"));
        assertEquals("ab", c.text());
    }
}
