package hg.shell.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hg.host.HostException;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.AlphaChars;
import net.jqwik.api.constraints.NotEmpty;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Test;

class WordsTest {
    @Test
    void blanksSeparateQuotesGroup() throws HostException {
        assertEquals(List.of("vm_create", "0", "1"), Words.split("  vm_create\t0   1 "));
        assertEquals(List.of("--cmdline", "console=ttyS0 quiet"), Words.split("--cmdline \"console=ttyS0 quiet\""));
        assertEquals(List.of("--cmdline", "a \"b\" c"), Words.split("--cmdline 'a \"b\" c'"));
        assertEquals(List.of("--cmdline=x y"), Words.split("--cmdline=\"x y\""));
        assertEquals(List.of("a b"), Words.split("a\\ b"));
        assertEquals(List.of("say \"hi\""), Words.split("\"say \\\"hi\\\"\""));
        assertEquals(List.of(""), Words.split("\"\""));
        assertEquals(List.of(), Words.split(""));
    }

    @Test
    void anUnclosedQuoteIsAnError() {
        HostException e = assertThrows(HostException.class, () -> Words.split("--cmdline \"quiet"));
        assertTrue(e.getMessage().startsWith("unclosed double quote"), e.getMessage());
        assertThrows(HostException.class, () -> Words.split("'"));
    }

    @Property(tries = 200)
    void plainWordsJoinedByBlanksSplitBack(@ForAll @Size(max = 8) List<@AlphaChars @NotEmpty @StringLength(max = 10) String> words)
            throws HostException {
        assertEquals(words, Words.split(String.join("  ", words)));
    }

    @Property(tries = 200)
    void quotingAnyWordKeepsIt(@ForAll @StringLength(max = 30) String word) throws HostException {
        String quoted = "'" + word.replace("'", "") + "'";
        assertEquals(List.of(word.replace("'", "")), Words.split(quoted));
    }
}
