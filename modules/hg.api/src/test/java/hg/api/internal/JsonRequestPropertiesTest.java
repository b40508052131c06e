package hg.api.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;

/**
 * Whatever a client sends, the request reader answers with a value or a 400 line: never another exception,
 * never an error of memory or stack however deep or long the body.
 */
class JsonRequestPropertiesTest {
    private static final String VALID = "{\"kernel\":0,\"image\":\"root.ext4\",\"mem\":\"64M\",\"cpus\":2,\"cmdline\":\"q\","
            + "\"read_only\":false,\"disks\":[{\"image\":1,\"read_only\":true},{\"path\":\"/d\"}],\"net\":true,\"vhost\":true}";

    private static void readsOrRefuses(byte[] body) {
        for (JsonIn.Reader<?> reader : new JsonIn.Reader<?>[] {Requests.Create::read, Requests.SetState::read,
                Requests.Clone::read, in -> Requests.DirAndFlag.read(in, "stop")}) {
            try {
                JsonIn.request(body, reader);
            } catch (ApiException e) {
                assertEquals(400, e.status());
                assertEquals(-1, e.getMessage().indexOf('\n'), "one line: " + e.getMessage());
            }
        }
    }

    @Property(tries = 2000)
    void randomBytesAreReadOrRefused(@ForAll @Size(max = 300) byte[] body) {
        readsOrRefuses(body);
    }

    @Property(tries = 3000)
    void mutatedBodiesAreReadOrRefused(@ForAll("mutations") String body) {
        readsOrRefuses(body.getBytes(StandardCharsets.UTF_8));
    }

    @Property(tries = 200)
    void deepOrLongBodiesAreRefusedWithinBounds(@ForAll("hostile") String body) {
        readsOrRefuses(body.getBytes(StandardCharsets.UTF_8));
    }

    @Provide
    Arbitrary<String> mutations() {
        Arbitrary<Integer> at = Arbitraries.integers().between(0, VALID.length());
        Arbitrary<String> piece = Arbitraries.of("{", "}", "[", "]", ",", ":", "\"", "0", "-1", "1e99", "null", "true",
                "\"x\"", "\\u0000", "\\", "1.5", "\"kernel\":0", "\"disks\":[", "{\"image\":", "99999999999999999999");
        return Arbitraries.lazyOf(
                () -> at.flatMap(i -> piece.map(p -> VALID.substring(0, i) + p + VALID.substring(i))),
                () -> at.flatMap(i -> at.map(j -> VALID.substring(0, Math.min(i, j)) + VALID.substring(Math.max(i, j)))),
                () -> at.map(i -> VALID.substring(0, i)));
    }

    @Provide
    Arbitrary<String> hostile() {
        Arbitrary<Integer> n = Arbitraries.integers().between(1, 100_000);
        return Arbitraries.oneOf(
                n.map(k -> "[".repeat(k)),
                n.map(k -> "{\"kernel\":" + "[".repeat(k) + "]".repeat(k) + "}"),
                n.map(k -> "{\"cmdline\":\"" + "a".repeat(k) + "\"}"),
                n.map(k -> "{\"" + "n".repeat(k) + "\":0}"),
                n.map(k -> "{\"kernel\":" + "7".repeat(k) + "}"));
    }
}
