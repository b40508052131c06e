package hg.shell.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The sequences a guest could use against the operator's terminal, and the ones ordinary guests need. */
class EscapeFilterTest {
    private static String filter(String in) {
        byte[] b = in.getBytes(StandardCharsets.UTF_8);
        return new String(new EscapeFilter().apply(b, 0, b.length), StandardCharsets.UTF_8);
    }

    @Test
    void dropsTitleClipboardAndEveryOtherOsc() {
        assertEquals("ab", filter("a\u001b]0;owned\u0007b"));
        assertEquals("ab", filter("a\u001b]2;owned\u001b\\b"));
        assertEquals("ab", filter("a\u001b]52;c;cm0gLXJmIH4=\u0007b"));
        assertEquals("ab", filter("a\u001b]8;;http://x\u001b\\b"));
    }

    @Test
    void dropsQueriesThatMakeTheTerminalAnswer() {
        assertEquals("ab", filter("a\u001b[5nb"));
        assertEquals("ab", filter("a\u001b[6nb"));
        assertEquals("ab", filter("a\u001b[cb"));
        assertEquals("ab", filter("a\u001b[>0cb"));
        assertEquals("ab", filter("a\u001b[?6nb"));
        assertEquals("ab", filter("a\u001b[21tb"));
        assertEquals("ab", filter("a\u001bZb"));
        assertEquals("ab", filter("a\u001b[?1000hb"), "mouse reports would reach the shell after detaching");
        assertEquals("ab", filter("a\u0005b"), "ENQ makes some terminals send their answerback");
    }

    @Test
    void dropsDcsApcPmAndSosStrings() {
        assertEquals("ab", filter("a\u001bP$qm\u001b\\b"));
        assertEquals("ab", filter("a\u001bP+q544e\u001b\\b"));
        assertEquals("ab", filter("a\u001b_Gf=100;AAAA\u001b\\b"));
        assertEquals("ab", filter("a\u001b^pm\u001b\\b"));
        assertEquals("ab", filter("a\u001bXsos\u001b\\b"));
    }

    @Test
    void dropsC1Controls() {
        // A terminal may take U+0080..U+009F (or a bare byte 0x80..0x9f) as ESC plus a letter: read them so.
        assertEquals("ab", filter("a\u009b6nb"), "CSI as one UTF-8 character");
        assertEquals("ab", filter("a\u009d0;t\u0007b"), "OSC as one UTF-8 character");
        assertEquals("a\u001b[1mb", filter("a\u009b1mb"), "SGR is kept, in its 7-bit form");
        byte[] raw = {'a', (byte) 0x9b, '6', 'n', 'b', (byte) 0x90, 'x', (byte) 0x9c, 'c'};
        assertEquals("abc", new String(new EscapeFilter().apply(raw, 0, raw.length), StandardCharsets.UTF_8));
    }

    @Test
    void keepsColoursCursorMovesAndErases() {
        String screen = "\u001b[H\u001b[2J\u001b[1;31mred\u001b[0m \u001b[38;5;208m\u001b[10;4Hx\u001b[K\u001b[?25l"
                + "\u001b[?1049h\u001b7\u001b8\u001b(0q\u001b(B\u001b[3A\u001b[2C é ─ 日本\r\n";
        assertEquals(screen, filter(screen));
    }

    @Test
    void aSequenceSplitAcrossChunksIsStillDropped() {
        EscapeFilter f = new EscapeFilter();
        StringBuilder out = new StringBuilder();
        for (String chunk : new String[] {"a\u001b", "]0;ti", "tle\u001b", "\\b\u001b[", "6", "nc\u001b[1", "m"}) {
            byte[] b = chunk.getBytes(StandardCharsets.UTF_8);
            out.append(new String(f.apply(b, 0, b.length), StandardCharsets.UTF_8));
        }
        assertEquals("abc\u001b[1m", out.toString());
    }
}
