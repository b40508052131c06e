package hg.bench;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;

class BytesMatchTest {

    /** Where the stepped matcher first reports a find: the end of the first occurrence, or -1. */
    private static int firstEnd(String pattern, String stream) {
        BytesMatch m = new BytesMatch(pattern);
        int matched = 0;
        byte[] bytes = stream.getBytes(StandardCharsets.ISO_8859_1);
        for (int i = 0; i < bytes.length; i++) {
            matched = m.step(matched, bytes[i]);
            if (matched == m.length()) {
                return i + 1;
            }
        }
        return -1;
    }

    @Test
    void findsTheReadyLineAcrossAPartialStart() {
        assertEquals(21, firstEnd("hyper-gen guest:", "hyperhyper-gen guest: ok"));
        assertEquals(-1, firstEnd("hyper-gen guest:", "hyper-gen guest"));
    }

    @Test
    void overlappingPrefixesAreNotSkipped() {
        assertEquals(7, firstEnd("aab", "aaaaaab"));
        assertEquals(7, firstEnd("abab", "abaababab"));
    }

    @Property
    void agreesWithIndexOf(@ForAll @StringLength(min = 1, max = 4) String pattern, @ForAll @StringLength(max = 40) String stream) {
        String p = narrow(pattern), s = narrow(stream);
        int at = s.indexOf(p);
        assertEquals(at < 0 ? -1 : at + p.length(), firstEnd(p, s));
    }

    /** Two letters only, so that occurrences and near-misses are common. */
    private static String narrow(String s) {
        StringBuilder b = new StringBuilder();
        s.chars().forEach(c -> b.append((c & 1) == 0 ? 'a' : 'b'));
        return b.toString();
    }
}
