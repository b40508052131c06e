package hg.e2e;

/**
 * Removes terminal control sequences (CSI {@code ESC [ ... final}, OSC {@code ESC ] ... BEL/ST},
 * and two-byte escapes like {@code ESC =}) from console output, so tests match on the text a
 * person would read. Stateful: a sequence may be split across reads.
 */
final class AnsiStripper {
    private enum State { TEXT, ESC, CSI, OSC, OSC_ESC, CHARSET }

    private State state = State.TEXT;

    String strip(CharSequence in) {
        StringBuilder out = new StringBuilder(in.length());
        for (int i = 0; i < in.length(); i++) {
            char c = in.charAt(i);
            switch (state) {
                case TEXT -> {
                    if (c == 0x1b) {
                        state = State.ESC;
                    } else {
                        out.append(c);
                    }
                }
                case ESC -> state = switch (c) {
                    case '[' -> State.CSI;
                    case ']' -> State.OSC;
                    case '(', ')', '*', '+', '#', '%' -> State.CHARSET;
                    default -> State.TEXT; // ESC =, ESC >, ESC 7, ESC 8, ESC c ...
                };
                case CSI -> {
                    if (c >= 0x40 && c <= 0x7e) {
                        state = State.TEXT;
                    }
                }
                case OSC -> {
                    if (c == 0x07) {
                        state = State.TEXT;
                    } else if (c == 0x1b) {
                        state = State.OSC_ESC;
                    }
                }
                case OSC_ESC -> state = c == '\\' ? State.TEXT : State.OSC;
                case CHARSET -> state = State.TEXT;
            }
        }
        return out.toString();
    }
}
