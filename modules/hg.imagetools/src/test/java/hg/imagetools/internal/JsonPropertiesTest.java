package hg.imagetools.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import hg.imagetools.Limits;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.CharRange;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.StringLength;

/** The manifest reader: any text is a value or an IllegalArgumentException, never a crash. */
class JsonPropertiesTest {
    @Property(tries = 500)
    void anyTextParsesOrIsRefused(@ForAll @StringLength(max = 200) @CharRange(from = ' ', to = '~') String text) {
        try {
            Json.parse(text);
        } catch (IllegalArgumentException expected) {
            // malformed: the caller turns it into one line
        }
    }

    /** Texts made of JSON's own characters reach deeper into the parser than arbitrary ones. */
    @Property(tries = 500)
    void jsonLikeTextParsesOrIsRefused(@ForAll @StringLength(max = 100) @CharRange(from = '"', to = '"') @CharRange(from = '[', to = ']')
            @CharRange(from = '{', to = '}') @CharRange(from = ',', to = ',') @CharRange(from = ':', to = ':') @CharRange(from = '0', to = '9')
            @CharRange(from = 'u', to = 'u') String text) {
        try {
            Json.parse(text);
        } catch (IllegalArgumentException expected) {
            // malformed
        }
    }

    @Property(tries = 50)
    void nestingIsCappedNotOverflowed(@ForAll @IntRange(min = 1, max = 200_000) int depth) {
        String text = "[".repeat(depth) + "]".repeat(depth);
        if (depth <= Limits.MAX_JSON_DEPTH) {
            Object v = Json.parse(text);
            for (int k = 1; k < depth; k++) v = ((List<?>) v).getFirst();
            assertEquals(List.of(), v);
        } else {
            assertThrows(IllegalArgumentException.class, () -> Json.parse(text));
        }
    }
}
