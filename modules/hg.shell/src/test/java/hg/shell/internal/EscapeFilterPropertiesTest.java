package hg.shell.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.Size;

/** The console filter on any guest output: what reaches the operator's terminal can only draw. */
class EscapeFilterPropertiesTest {
    private static final byte ESC = 0x1b;

    @Property(tries = 500)
    void noStringOrQueryEverReachesTheTerminal(@ForAll("hostile") byte[] output) {
        byte[] out = filter(output);
        for (int i = 0; i + 1 < out.length; i++) {
            if (out[i] == ESC) {
                byte next = out[i + 1];
                assertTrue(next != ']' && next != 'P' && next != '_' && next != '^' && next != 'X' && next != 'Z',
                        "ESC " + (char) next + " passed in " + show(out));
            }
            if ((out[i] & 0xff) == 0xc2) {
                int next = out[i + 1] & 0xff;
                assertTrue(next < 0x80 || next > 0x9f, "a C1 control passed in " + show(out));
            }
        }
        String text = new String(out, StandardCharsets.ISO_8859_1);
        for (String query : List.of("\u001b[5n", "\u001b[6n", "\u001b[c", "\u001b[0c", "\u001b[>c", "\u001b[?6n")) {
            assertTrue(!text.contains(query), "a query passed: " + show(out));
        }
    }

    @Property(tries = 300)
    void textAndColoursPassUnchanged(@ForAll("ordinary") List<String> pieces) {
        byte[] in = String.join("", pieces).getBytes(StandardCharsets.UTF_8);
        assertArrayEquals(in, filter(in), () -> show(in));
    }

    @Property(tries = 300)
    void anySplitGivesTheSameOutputAsOneChunk(@ForAll("hostile") byte[] output,
                                              @ForAll @Size(max = 12) List<Integer> cuts) {
        EscapeFilter filter = new EscapeFilter();
        ByteArrayOutputStream split = new ByteArrayOutputStream();
        int at = 0;
        for (int cut : cuts) {
            int n = Math.min(Math.floorMod(cut, 9), output.length - at);
            split.writeBytes(filter.apply(output, at, n));
            at += n;
        }
        split.writeBytes(filter.apply(output, at, output.length - at));
        assertArrayEquals(filter(output), split.toByteArray());
    }

    @Property(tries = 50)
    void aLongStringIsDroppedWithBoundedState(@ForAll("payloadSizes") int size) {
        // OSC 52 with a large clipboard payload: never buffered, never passed, and output resumes after it.
        String seq = "\u001b]52;c;" + "QUJD".repeat(size / 4) + "\u0007";
        byte[] out = filter(("a" + seq + "b").getBytes(StandardCharsets.US_ASCII));
        String s = new String(out, StandardCharsets.US_ASCII);
        assertTrue(!s.contains("\u001b"), s.length() > 80 ? s.substring(0, 80) : s);
        assertTrue(s.startsWith("a") && s.endsWith("b"), s.length() > 80 ? s.substring(0, 80) : s);
        if (size + 6 <= EscapeFilter.MAX_SEQUENCE) {
            assertEquals("ab", s);
        }
    }

    @Provide
    Arbitrary<Integer> payloadSizes() {
        return Arbitraries.integers().between(0, 64 << 10);
    }

    static byte[] filter(byte[] in) {
        return new EscapeFilter().apply(in, 0, in.length);
    }

    /** Bytes from the alphabet escape sequences are made of, and whole sequences good and bad. */
    @Provide
    Arbitrary<byte[]> hostile() {
        Arbitrary<byte[]> piece = Arbitraries.frequencyOf(
                Tuple.of(4, Arbitraries.of("\u001b", "[", "]", "P", "\\", "\u0007", "\u0018", "?", ">", "=", ";", "0",
                        "5", "6", "n", "c", "m", "q", "$", " ", "_", "^", "X", "Z", "a", "\n", "(", "#", "2", "52")
                        .map(s -> s.getBytes(StandardCharsets.US_ASCII))),
                Tuple.of(2, Arbitraries.of("\u001b]0;pwned\u0007", "\u001b]52;c;aGk=\u001b\\", "\u001b[6n", "\u001b[>c",
                        "\u001bP$qm\u001b\\", "\u001b[1;31m", "\u001b[H", "\u001b[2J", "\u001b_x\u001b\\", "\u001bZ",
                        "\u001b[?1049h", "\u001b[?1000h", "\u001b[21t", "\u001b]", "\u001bP")
                        .map(s -> s.getBytes(StandardCharsets.US_ASCII))),
                Tuple.of(2, Arbitraries.of(new byte[] {(byte) 0xc2, (byte) 0x9b}, new byte[] {(byte) 0xc2, (byte) 0x9d},
                        new byte[] {(byte) 0x9b}, new byte[] {(byte) 0x90}, new byte[] {(byte) 0xc2},
                        new byte[] {(byte) 0xe2, (byte) 0x94, (byte) 0x80}, "é".getBytes(StandardCharsets.UTF_8))),
                Tuple.of(1, Arbitraries.bytes().array(byte[].class).ofMaxSize(4)));
        return piece.list().ofMaxSize(60).map(EscapeFilterPropertiesTest::concat);
    }

    /** What ordinary guests print: text (any Unicode but C0/C1 controls other than tab, CR, LF), SGR, cursor moves, erases. */
    @Provide
    Arbitrary<List<String>> ordinary() {
        Arbitrary<String> text = Arbitraries.strings().withCharRange(' ', '~').withCharRange('\u00a0', '\u2fff')
                .withChars('\t', '\r', '\n').ofMaxLength(20);
        Arbitrary<String> params = Arbitraries.integers().between(0, 255).map(String::valueOf).list().ofMaxSize(5)
                .map(l -> String.join(";", l));
        Arbitrary<String> sgr = params.map(p -> "\u001b[" + p + "m");
        Arbitrary<String> move = Combinators.combine(params, Arbitraries.of("A", "B", "C", "D", "H", "f", "G", "d", "J",
                "K", "X", "P", "@", "L", "M", "r")).as((p, f) -> "\u001b[" + p + f);
        Arbitrary<String> dec = Arbitraries.of("\u001b7", "\u001b8", "\u001bM", "\u001b(B", "\u001b(0", "\u001b[?25l",
                "\u001b[?25h", "\u001b[?1049h", "\u001b[?1049l", "\u001b[38;2;10;20;30m", "\u001b[38:5:208m", "\u001b[ q");
        return Arbitraries.frequencyOf(Tuple.of(4, text), Tuple.of(2, sgr), Tuple.of(2, move), Tuple.of(1, dec))
                .list().ofMaxSize(30);
    }

    private static byte[] concat(List<byte[]> pieces) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        pieces.forEach(out::writeBytes);
        return out.toByteArray();
    }

    static String show(byte[] b) {
        StringBuilder s = new StringBuilder();
        for (byte x : b) {
            int c = x & 0xff;
            s.append(c >= 0x20 && c < 0x7f ? String.valueOf((char) c) : String.format("<%02x>", c));
        }
        return s.toString();
    }
}
