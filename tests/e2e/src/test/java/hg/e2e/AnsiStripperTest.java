package hg.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.CharRange;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class AnsiStripperTest {

    @Test
    void removesWhatJLinePrintsAroundAPrompt() {
        String raw = "\u001b[?1l\u001b>\u001b[?1000l\u001b[?2004l1\r\n\u001b[?1h\u001b=\u001b[?2004hhyper-gen:# ";
        assertEquals("1\r\nhyper-gen:# ", new AnsiStripper().strip(raw));
    }

    @Test
    void removesOscTitlesAndCharsetSelection() {
        assertEquals("ab", new AnsiStripper().strip("a\u001b]0;title\u0007\u001b(Bb"));
        assertEquals("ab", new AnsiStripper().strip("a\u001b]0;title\u001b\\b"));
    }

    @Property(tries = 200)
    void aSequenceSplitAnywhereIsStillRemoved(@ForAll @IntRange(min = 0, max = 20) int cut) {
        String raw = "x\u001b[38;5;196my\u001b[0m\u001b=z";
        int at = Math.min(cut, raw.length());
        AnsiStripper s = new AnsiStripper();
        assertEquals("xyz", s.strip(raw.substring(0, at)) + s.strip(raw.substring(at)));
    }

    @Property(tries = 200)
    void plainTextPassesUnchanged(@ForAll @CharRange(from = ' ', to = '~') String text) {
        assertEquals(text, new AnsiStripper().strip(text));
    }
}
