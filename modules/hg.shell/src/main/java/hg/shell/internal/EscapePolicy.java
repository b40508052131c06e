package hg.shell.internal;

import java.util.Set;

/**
 * Which escape and control sequences a guest's console output may send to the operator's terminal: those that
 * draw (colours, cursor moves, erases, scroll regions, the alternate screen, character sets), as shells,
 * editors and pagers in a guest use them. Everything else is refused, above all what makes the terminal answer
 * (device status, device attributes, window reports, mode reports) and what would outlive the session in a way
 * that sends input (mouse and focus reports).
 */
final class EscapePolicy {
    /** Finals of a plain control sequence (no private marker, no intermediate) that only draw. */
    private static final String DRAWING_FINALS = "@ABCDEFGHIJKLMPSTXZ`abdefgmrsu";
    /**
     * DEC private modes (CSI ? n h/l) that only change how output is drawn: cursor keys (1), reverse video (5),
     * origin (6), autowrap (7), cursor blink (12), cursor shown (25), the alternate screen (47, 1047-1049),
     * bracketed paste (2004, which vim sets).
     */
    private static final Set<String> DRAWING_DEC_MODES = Set.of("1", "5", "6", "7", "12", "25", "47", "1047", "1048",
            "1049", "2004");

    private EscapePolicy() {
    }

    /**
     * An escape sequence, given as the bytes after ESC: save and restore the cursor (7 8), index, next line and
     * reverse index (D E M), a tab stop (H), keypad modes (= >), full reset (c), character sets (( or ) and a
     * final), line sizes and the alignment test (# 3 to # 8).
     */
    static boolean allowsEscape(String s) {
        if (s.length() == 1) {
            return "78DEHM=>c".indexOf(s.charAt(0)) >= 0;
        }
        if (s.length() == 2) {
            char first = s.charAt(0);
            char last = s.charAt(1);
            return first == '(' || first == ')' || (first == '#' && last >= '3' && last <= '8');
        }
        return false;
    }

    /** A control sequence, given as the bytes after ESC, "[" included: e.g. "[1;31m". */
    static boolean allowsControlSequence(String s) {
        char fin = s.charAt(s.length() - 1);
        int end = s.length() - 1;
        int intermediates = end;
        while (intermediates > 1 && s.charAt(intermediates - 1) >= 0x20 && s.charAt(intermediates - 1) <= 0x2f) {
            intermediates--;
        }
        String middle = s.substring(intermediates, end);
        int start = 1;
        char marker = 0;
        if (start < intermediates && s.charAt(start) >= '<' && s.charAt(start) <= '?') {
            marker = s.charAt(start++);
        }
        String params = s.substring(start, intermediates);
        if (!params.chars().allMatch(c -> c >= '0' && c <= ';')) {
            return false; // a marker inside the parameters, or parameter bytes after intermediates: malformed
        }
        if (!middle.isEmpty()) {
            // Cursor shape (DECSCUSR, CSI n SP q) and soft reset (DECSTR, CSI ! p); DECRQM (CSI ? n $ p) and the like answer.
            return marker == 0 && (middle.equals(" ") && fin == 'q' || middle.equals("!") && fin == 'p');
        }
        if (marker == '?') {
            return fin == 'J' || fin == 'K' || (fin == 'h' || fin == 'l') && allIn(params, DRAWING_DEC_MODES);
        }
        if (marker != 0) {
            return false; // CSI > c, CSI = c (device attributes), CSI > n m (xterm key modes), CSI < u (kitty keys)
        }
        if (fin == 'h' || fin == 'l') {
            return allIn(params, Set.of("4")); // insert mode; the other ANSI modes change what the terminal sends
        }
        return DRAWING_FINALS.indexOf(fin) >= 0;
    }

    private static boolean allIn(String params, Set<String> allowed) {
        for (String p : params.split(";", -1)) {
            if (!allowed.contains(p)) {
                return false;
            }
        }
        return true;
    }
}
