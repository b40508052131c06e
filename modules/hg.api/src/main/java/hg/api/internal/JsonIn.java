package hg.api.internal;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Reading JSON by hand with Jackson's streaming parser, with bounds a hostile body cannot get past: nesting
 * depth, string, name and number lengths, the document's size. A request's unknown field is refused (a typo
 * must not pass as a default); an answer's is skipped, so an older client reads a newer daemon.
 */
public final class JsonIn {
    /** The largest request body the server reads. */
    public static final int MAX_REQUEST = 64 * 1024;

    private static final JsonFactory REQUESTS = factory(MAX_REQUEST, 8);
    // A list of many VMs with their disks is far longer than any request; the OpenAPI document is deeper.
    private static final JsonFactory ANSWERS = factory(64L * 1024 * 1024, 32);

    private final JsonParser parser;
    private final boolean strict;

    private JsonIn(JsonParser parser, boolean strict) {
        this.parser = parser;
        this.strict = strict;
    }

    private static JsonFactory factory(long maxDocument, int maxDepth) {
        return JsonFactory.builder()
                .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(maxDepth).maxStringLength(16 * 1024)
                        .maxNameLength(64).maxNumberLength(20).maxDocumentLength(maxDocument).build())
                .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                .build();
    }

    /** What reads one value: the parser stands on the value's first token. */
    @FunctionalInterface
    public interface Reader<T> {
        T read(JsonIn in) throws IOException, ApiException;
    }

    /** What takes one field of an object: false when the name is not one it knows. */
    @FunctionalInterface
    public interface FieldReader {
        boolean field(String name) throws IOException, ApiException;
    }

    /** Reads a request body: exactly one value and nothing after it; every problem is a 400 naming the field. */
    public static <T> T request(byte[] body, Reader<T> reader) throws ApiException {
        return read(REQUESTS, body, true, reader);
    }

    /** Reads an answer of the daemon, skipping fields this client does not know. */
    public static <T> T answer(byte[] body, Reader<T> reader) throws ApiException {
        return read(ANSWERS, body, false, reader);
    }

    private static <T> T read(JsonFactory factory, byte[] body, boolean strict, Reader<T> reader) throws ApiException {
        try (JsonParser p = factory.createParser(body)) {
            if (p.nextToken() == null) {
                throw ApiException.badRequest("the body is empty: send a JSON object");
            }
            T value = reader.read(new JsonIn(p, strict));
            if (p.nextToken() != null) {
                throw ApiException.badRequest("malformed JSON: more after the value, at offset "
                        + p.currentTokenLocation().getByteOffset());
            }
            return value;
        } catch (JsonProcessingException e) {
            throw ApiException.badRequest("malformed JSON: " + firstLine(e.getOriginalMessage()));
        } catch (IOException e) {
            throw ApiException.badRequest("the body could not be read: " + firstLine(e.getMessage()));
        }
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "no detail";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    public JsonToken token() {
        return parser.currentToken();
    }

    /** Goes through an object's fields; each value is read by {@code fields} or refused/skipped. */
    public void object(String where, FieldReader fields) throws IOException, ApiException {
        expect(where, JsonToken.START_OBJECT, "an object");
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
            String name = parser.currentName();
            parser.nextToken();
            if (!fields.field(name)) {
                if (strict) {
                    throw ApiException.badRequest("unknown field '" + join(where, name) + "'");
                }
                parser.skipChildren();
            }
        }
    }

    /** An object of which one field matters: its value as {@code value} reads it, or {@code absent} without it. */
    public <T> T onlyField(String name, T absent, Reader<T> value) throws IOException, ApiException {
        var found = new Object() {
            T value = absent;
        };
        object("", field -> {
            if (!field.equals(name)) {
                return false;
            }
            found.value = value.read(this);
            return true;
        });
        return found.value;
    }

    /** An array whose elements {@code element} reads, at most {@code max} of them. */
    public <T> List<T> array(String field, int max, Reader<T> element) throws IOException, ApiException {
        expect(field, JsonToken.START_ARRAY, "an array");
        List<T> out = new ArrayList<>();
        while (parser.nextToken() != JsonToken.END_ARRAY) {
            if (out.size() == max) {
                throw ApiException.badRequest("field '" + field + "' has more than " + max + " elements");
            }
            out.add(element.read(this));
        }
        return out;
    }

    public String string(String field) throws IOException, ApiException {
        expect(field, JsonToken.VALUE_STRING, "a string");
        return parser.getText();
    }

    /** A string or null. */
    public String optionalString(String field) throws IOException, ApiException {
        return token() == JsonToken.VALUE_NULL ? null : string(field);
    }

    public boolean bool(String field) throws IOException, ApiException {
        JsonToken t = token();
        if (t != JsonToken.VALUE_TRUE && t != JsonToken.VALUE_FALSE) {
            throw wrongType(field, "true or false");
        }
        return t == JsonToken.VALUE_TRUE;
    }

    public long integer(String field) throws IOException, ApiException {
        expect(field, JsonToken.VALUE_NUMBER_INT, "a whole number");
        if (parser.getNumberType() != JsonParser.NumberType.INT && parser.getNumberType() != JsonParser.NumberType.LONG) {
            throw ApiException.badRequest("field '" + field + "' is out of range");
        }
        return parser.getLongValue();
    }

    /** A whole number that fits an int, else the line naming the field. */
    public int smallInteger(String field) throws IOException, ApiException {
        long v = integer(field);
        if (v != (int) v) {
            throw ApiException.badRequest("field '" + field + "' is out of range");
        }
        return (int) v;
    }

    /** A catalog id (a number) or a file name (a string), as the word the shell would take. */
    public String idOrName(String field) throws IOException, ApiException {
        if (token() == JsonToken.VALUE_NUMBER_INT) {
            long id = integer(field);
            if (id < 0) {
                throw ApiException.badRequest("field '" + field + "' is a negative id");
            }
            return Long.toString(id);
        }
        if (token() != JsonToken.VALUE_STRING) {
            throw wrongType(field, "an id (a number) or a file name (a string)");
        }
        return parser.getText();
    }

    private void expect(String field, JsonToken wanted, String what) throws ApiException {
        if (token() != wanted) {
            throw wrongType(field, what);
        }
    }

    private ApiException wrongType(String field, String what) {
        String name = field.isEmpty() ? "the body" : "field '" + field + "'";
        return ApiException.badRequest(name + " must be " + what + ", not " + describe(token()));
    }

    private static String describe(JsonToken t) {
        return switch (t) {
            case START_OBJECT -> "an object";
            case START_ARRAY -> "an array";
            case VALUE_STRING -> "a string";
            case VALUE_NUMBER_INT, VALUE_NUMBER_FLOAT -> "a number";
            case VALUE_TRUE, VALUE_FALSE -> "a boolean";
            case VALUE_NULL -> "null";
            default -> String.valueOf(t);
        };
    }

    /** "disks[0].image" from "disks[0]" and "image". */
    public static String join(String where, String name) {
        return where.isEmpty() ? name : where + "." + name;
    }

    /** The missing-field line. */
    public static ApiException missing(String field) {
        return ApiException.badRequest("field '" + field + "' is required");
    }
}
