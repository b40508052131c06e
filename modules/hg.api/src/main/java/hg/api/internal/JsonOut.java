package hg.api.internal;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/** Writing JSON by hand with Jackson's streaming generator, into bytes. */
public final class JsonOut {
    private static final JsonFactory FACTORY = new JsonFactory();

    private JsonOut() {}

    /** What writes one value with the generator. */
    @FunctionalInterface
    public interface Writer {
        void write(JsonGenerator g) throws IOException;
    }

    public static byte[] bytes(Writer writer) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        try (JsonGenerator g = FACTORY.createGenerator(out)) {
            writer.write(g);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // into memory: cannot happen
        }
        return out.toByteArray();
    }

    /** {"error": line}: the body of every 4xx and 5xx answer. */
    public static byte[] error(String line) {
        return bytes(g -> {
            g.writeStartObject();
            g.writeStringField("error", oneLine(line));
            g.writeEndObject();
        });
    }

    /**
     * The line as one line: control characters (a newline in a file name a client sent) written as escapes,
     * so a line never breaks the terminal of whoever prints it.
     */
    public static String oneLine(String line) {
        StringBuilder out = new StringBuilder(line.length());
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                out.append(String.format("\\x%02x", (int) c));
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    /** A string field, or null. */
    public static void nullable(JsonGenerator g, String name, String value) throws IOException {
        if (value == null) {
            g.writeNullField(name);
        } else {
            g.writeStringField(name, value);
        }
    }
}
