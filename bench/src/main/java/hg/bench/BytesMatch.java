package hg.bench;

import java.nio.charset.StandardCharsets;

/**
 * Finds a text in a stream of bytes one byte at a time (Knuth-Morris-Pratt): a console listener on a
 * guest's vCPU thread steps it over what the guest wrote, with no copy and no search of what came before.
 * Copied into the nest beside {@link NestProbe}.
 */
final class BytesMatch {
    private final byte[] text;
    /** fallback[i]: how much of the text still matches after a mismatch with i bytes matched. */
    private final int[] fallback;

    BytesMatch(String text) {
        this.text = text.getBytes(StandardCharsets.ISO_8859_1);
        if (this.text.length == 0) {
            throw new IllegalArgumentException("an empty text matches nothing to wait for");
        }
        fallback = new int[this.text.length + 1];
        for (int i = 1, k = 0; i < this.text.length; i++) {
            while (k > 0 && this.text[i] != this.text[k]) {
                k = fallback[k];
            }
            if (this.text[i] == this.text[k]) {
                k++;
            }
            fallback[i + 1] = k;
        }
    }

    int length() {
        return text.length;
    }

    /** How much of the text matches once {@code b} follows {@code matched} matching bytes; {@link #length()} is a find. */
    int step(int matched, byte b) {
        int k = matched == text.length ? fallback[matched] : matched;
        while (k > 0 && text[k] != b) {
            k = fallback[k];
        }
        return text[k] == b ? k + 1 : 0;
    }
}
