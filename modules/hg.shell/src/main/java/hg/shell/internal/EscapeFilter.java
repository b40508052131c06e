package hg.shell.internal;

import java.io.ByteArrayOutputStream;

/**
 * Stands between a guest's console output and the operator's terminal: text and the escape sequences that
 * only draw (colours, cursor moves, erases, see {@link EscapePolicy}) pass; everything else is dropped whole.
 * A guest must not retitle the terminal or write its clipboard (OSC), nor make it answer (device status,
 * device attributes, DECRQSS in a DCS) into the keystrokes vm_console passes back to the guest, or to the
 * shell after detaching. All OSC, DCS, SOS, PM and APC strings are dropped, whatever their content.
 *
 * <p>A state machine over bytes, fed chunk by chunk as the console delivers them: a sequence split across
 * chunks is judged as a whole. The state is bounded: a control sequence is held (at most
 * {@link #MAX_SEQUENCE} bytes) until its final byte decides it; a string is never held, only skipped, and one
 * longer than {@link #MAX_SEQUENCE} is given up on, so a guest cannot make the console swallow all that follows
 * (its introducer is gone, so the rest is plain text).
 *
 * <p>The terminal is taken to be UTF-8. C1 controls, as a character (U+0080..U+009F) or a stray byte, are read as
 * ESC plus a letter, as some terminals read them, and judged like it.
 */
final class EscapeFilter {
    static final int MAX_SEQUENCE = 4096;
    private static final int ESC = 0x1b, BEL = 0x07, ENQ = 0x05, CAN = 0x18, SUB = 0x1a, DEL = 0x7f, ST = 0x9c;

    private enum State {
        /** Text. */
        GROUND,
        /** After ESC. */
        ESCAPE,
        /** After ESC and one or more intermediate bytes (0x20-0x2f), before the final byte. */
        ESCAPE_INTERMEDIATE,
        /** In a control sequence, after ESC [. */
        CSI,
        /** Skipping an OSC, DCS, SOS, PM or APC string. */
        STRING,
        /** Skipping a string, after an ESC that may begin its terminator ESC \. */
        STRING_ESCAPE,
        /** After the UTF-8 lead byte 0xc2, which with 0x80..0x9f makes a C1 control. */
        C2
    }

    private State state = State.GROUND;
    /** The sequence after its ESC, e.g. "[1;31m", while its final byte is awaited. */
    private final byte[] sequence = new byte[MAX_SEQUENCE];
    private int length;
    private boolean belEndsString;
    private int skipped;
    /** Continuation bytes still due in the current UTF-8 character: those are text, never C1 controls. */
    private int continuations;

    /** Filters the next chunk of console output; returns what may reach the terminal. */
    byte[] apply(byte[] in, int off, int len) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(len);
        for (int i = off; i < off + len; i++) {
            step(in[i] & 0xff, out);
        }
        return out.toByteArray();
    }

    private void step(int b, ByteArrayOutputStream out) {
        switch (state) {
            case GROUND -> ground(b, out);
            case ESCAPE -> escape(b, out);
            case ESCAPE_INTERMEDIATE -> escapeIntermediate(b, out);
            case CSI -> csi(b, out);
            case STRING -> string(b);
            case STRING_ESCAPE -> stringEscape(b, out);
            case C2 -> afterC2(b, out);
        }
    }

    private void ground(int b, ByteArrayOutputStream out) {
        if (b >= 0x80 && b <= 0xbf && continuations > 0) {
            continuations--;
            out.write(b);
            return;
        }
        continuations = 0;
        if (b == ESC) {
            begin(State.ESCAPE);
        } else if (b >= 0x80 && b <= 0x9f) {
            c1(b, out); // a stray byte, outside any UTF-8 character
        } else if (b == 0xc2) {
            state = State.C2; // held until the next byte says whether it is a C1 control
        } else if (b != ENQ) { // ENQ makes some terminals send their answerback message
            continuations = b >= 0xf0 && b <= 0xf4 ? 3 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xc3 && b <= 0xdf ? 1 : 0;
            out.write(b);
        }
    }

    private void afterC2(int b, ByteArrayOutputStream out) {
        state = State.GROUND;
        if (b >= 0x80 && b <= 0x9f) {
            c1(b, out);
        } else if (b >= 0xa0 && b <= 0xbf) {
            out.write(0xc2);
            out.write(b);
        } else {
            out.write(0xc2); // not UTF-8: the terminal shows a replacement character
            ground(b, out);
        }
    }

    /** A C1 control is ESC followed by the control minus 0x40 (CSI 0x9b is ESC [). */
    private void c1(int b, ByteArrayOutputStream out) {
        begin(State.ESCAPE);
        escape(b - 0x40, out);
    }

    private void begin(State s) {
        state = s;
        length = 0;
        skipped = 0;
    }

    private void escape(int b, ByteArrayOutputStream out) {
        if (b == '[') {
            state = State.CSI;
            hold(b);
        } else if (b == ']' || b == 'P' || b == 'X' || b == '^' || b == '_') {
            belEndsString = b == ']'; // OSC may end with BEL; DCS, SOS, PM and APC only with ST
            begin(State.STRING);
        } else if (b >= 0x20 && b <= 0x2f) {
            state = State.ESCAPE_INTERMEDIATE;
            hold(b);
        } else if (b >= 0x30 && b <= 0x7e) {
            hold(b);
            finish(EscapePolicy.allowsEscape(held()), out);
        } else {
            interrupt(b, out);
        }
    }

    private void escapeIntermediate(int b, ByteArrayOutputStream out) {
        if (b >= 0x20 && b <= 0x2f) {
            hold(b);
        } else if (b >= 0x30 && b <= 0x7e) {
            hold(b);
            finish(EscapePolicy.allowsEscape(held()), out);
        } else {
            interrupt(b, out);
        }
    }

    private void csi(int b, ByteArrayOutputStream out) {
        if (b >= 0x20 && b <= 0x3f) {
            hold(b);
        } else if (b >= 0x40 && b <= 0x7e) {
            hold(b);
            finish(EscapePolicy.allowsControlSequence(held()), out);
        } else {
            interrupt(b, out);
        }
    }

    /**
     * A byte that does not belong in an escape or control sequence. As terminals do: ESC starts another
     * sequence, CAN and SUB cancel it, other C0 controls act at once and the sequence goes on, DEL is ignored;
     * anything else (a byte of 0x80 or more) ends the sequence unfinished and is read as text.
     */
    private void interrupt(int b, ByteArrayOutputStream out) {
        if (b == ESC) {
            begin(State.ESCAPE);
        } else if (b == CAN || b == SUB) {
            state = State.GROUND;
        } else if (b < 0x20) {
            if (b != ENQ) {
                out.write(b);
            }
        } else if (b != DEL) {
            state = State.GROUND;
            ground(b, out);
        }
    }

    private void string(int b) {
        if ((b == BEL && belEndsString) || b == CAN || b == SUB || b == ST) {
            state = State.GROUND;
        } else if (b == ESC) {
            state = State.STRING_ESCAPE;
        } else if (++skipped > MAX_SEQUENCE) {
            state = State.GROUND;
        }
    }

    private void stringEscape(int b, ByteArrayOutputStream out) {
        if (b == '\\') {
            state = State.GROUND;
        } else {
            begin(State.ESCAPE); // the ESC ended the string and starts a sequence of its own
            escape(b, out);
        }
    }

    /** Holds a byte of the current sequence; one too long is dropped and what follows is text. */
    private void hold(int b) {
        if (length == MAX_SEQUENCE) {
            state = State.GROUND;
            return;
        }
        sequence[length++] = (byte) b;
    }

    private String held() {
        return new String(sequence, 0, length, java.nio.charset.StandardCharsets.ISO_8859_1);
    }

    private void finish(boolean allowed, ByteArrayOutputStream out) {
        if (allowed && state != State.GROUND) {
            out.write(ESC);
            out.write(sequence, 0, length);
        }
        state = State.GROUND;
    }
}
