package hg.api.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The request reader: what it takes, and the one line naming the field for what it refuses. */
class JsonRequestTest {
    private static Requests.Create create(String json) throws ApiException {
        return JsonIn.request(json.getBytes(StandardCharsets.UTF_8), Requests.Create::read);
    }

    private static String refusal(String json) {
        ApiException e = assertThrows(ApiException.class, () -> create(json));
        assertEquals(400, e.status());
        return e.getMessage();
    }

    @Test
    void aFullCreateRequestIsRead() throws Exception {
        Requests.Create c = create("""
                {"kernel": 0, "image": "root.ext4", "mem": "64M", "cpus": 2, "cmdline": "quiet", "read_only": true,
                 "disks": [{"image": 1, "read_only": true}, {"path": "/srv/data.img"}], "net": true, "vhost": false}""");
        assertEquals(new Requests.Create("0", "root.ext4", null, "64M", 2, "quiet", true, List.of(
                new Requests.DiskRequest("1", null, true), new Requests.DiskRequest(null, "/srv/data.img", false)),
                true, false), c);
        assertEquals(new Requests.Create("vmlinux", "1", 256L, null, null, null, false, List.of(), null, null),
                create("{\"kernel\":\"vmlinux\",\"image\":1,\"mem_mib\":256}"));
    }

    @Test
    void whatTheClientWritesTheServerReads() throws Exception {
        Requests.Create c = new Requests.Create("echo.elf", "3", 64L, null, 1, "a \"quoted\" arg", false,
                List.of(new Requests.DiskRequest("data.ext4", null, true)), false, true);
        assertEquals(c, JsonIn.request(JsonOut.bytes(c::write), Requests.Create::read));
        Requests.Create huge = new Requests.Create("echo.elf", "3", 64L, null, 1, "", false, List.of(), false, true, null,
                List.of(), true);
        assertEquals(huge, JsonIn.request(JsonOut.bytes(huge::write), Requests.Create::read));
        assertEquals("field 'hugepages' must be true or false, not a string",
                refusal("{\"kernel\":0,\"image\":0,\"hugepages\":\"2M\"}"));
    }

    @Test
    void eachRefusalNamesTheField() {
        assertEquals("unknown field 'memory'", refusal("{\"kernel\":0,\"image\":0,\"memory\":1}"));
        assertEquals("unknown field 'disks[0].ro'", refusal("{\"kernel\":0,\"image\":0,\"disks\":[{\"image\":1,\"ro\":true}]}"));
        assertEquals("field 'cpus' must be a whole number, not a string", refusal("{\"kernel\":0,\"image\":0,\"cpus\":\"2\"}"));
        assertEquals("field 'cpus' must be a whole number, not a number", refusal("{\"kernel\":0,\"image\":0,\"cpus\":1.5}"));
        assertEquals("field 'cpus' is out of range", refusal("{\"kernel\":0,\"image\":0,\"cpus\":4294967297}"));
        assertEquals("field 'read_only' must be true or false, not a string",
                refusal("{\"kernel\":0,\"image\":0,\"read_only\":\"yes\"}"));
        assertEquals("field 'kernel' must be an id (a number) or a file name (a string), not an object",
                refusal("{\"kernel\":{},\"image\":0}"));
        assertEquals("field 'kernel' is a negative id", refusal("{\"kernel\":-1,\"image\":0}"));
        assertEquals("field 'image' is required", refusal("{\"kernel\":0}"));
        assertEquals("field 'kernel' is required", refusal("{}"));
        assertEquals("the body must be an object, not an array", refusal("[]"));
        assertEquals("the body is empty: send a JSON object", refusal(""));
        assertEquals("give 'mem' or 'mem_mib', not both", refusal("{\"kernel\":0,\"image\":0,\"mem\":\"1G\",\"mem_mib\":1}"));
        assertEquals("disks[0] needs one of 'image' (an id or file name) or 'path' (a file)",
                refusal("{\"kernel\":0,\"image\":0,\"disks\":[{\"read_only\":true}]}"));
        assertEquals("field 'disks' must be an array, not an object", refusal("{\"kernel\":0,\"image\":0,\"disks\":{}}"));
    }

    @Test
    void malformedJsonIsOneLine() {
        for (String bad : List.of("{", "{\"kernel\":}", "{\"kernel\":0,}", "nul", "{\"kernel\":0,\"image\":0} x", "{'kernel':0}",
                "{\"kernel\":0,\"kernel\":1,\"image\":0}")) {
            String line = refusal(bad);
            assertTrue(line.startsWith("malformed JSON: "), bad + " -> " + line);
            assertTrue(!line.contains("\n"), line);
        }
        assertTrue(refusal("{\"kernel\":0,\"kernel\":1,\"image\":0}").contains("Duplicate field 'kernel'"));
    }

    @Test
    void boundsHoldAgainstDeepAndLongBodies() {
        // A request's reader refuses a wrong type before it goes deep; an answer's skips unknown fields, and
        // the depth bound stops it there.
        String deep = "{\"x\":" + "[".repeat(40) + "]".repeat(40) + "}";
        ApiException e = assertThrows(ApiException.class, () -> JsonIn.answer(deep.getBytes(StandardCharsets.UTF_8),
                in -> {
                    in.object("", name -> false);
                    return null;
                }));
        assertTrue(e.getMessage().startsWith("malformed JSON: Document nesting depth"), e.getMessage());
        String longString = "{\"kernel\":\"" + "k".repeat(20_000) + "\",\"image\":0}";
        assertTrue(refusal(longString).contains("String value length"), refusal(longString));
        String longNumber = "{\"kernel\":" + "9".repeat(30) + ",\"image\":0}";
        assertTrue(refusal(longNumber).startsWith("malformed JSON: "), refusal(longNumber));
        StringBuilder disks = new StringBuilder("{\"kernel\":0,\"image\":0,\"disks\":[");
        for (int i = 0; i < 40; i++) {
            disks.append(i == 0 ? "" : ",").append("{\"image\":").append(i).append('}');
        }
        assertEquals("field 'disks' has more than 32 elements", refusal(disks + "]}"));
    }

    @Test
    void aLineStaysOneLine() {
        assertEquals("unknown field 'ker\\x0ael'", refusal("{\"kernel\":0,\"image\":0,\"ker\\nel\":1}"));
    }

    @Test
    void theOtherRequests() throws Exception {
        assertEquals(new Requests.SetState(true), JsonIn.request("{\"state\":\"paused\"}".getBytes(), Requests.SetState::read));
        ApiException e = assertThrows(ApiException.class,
                () -> JsonIn.request("{\"state\":\"asleep\"}".getBytes(), Requests.SetState::read));
        assertEquals("field 'state' must be \"paused\" or \"running\", not \"asleep\"", e.getMessage());
        assertEquals(new Requests.DirAndFlag("/s", true),
                JsonIn.request("{\"dir\":\"/s\",\"stop\":true}".getBytes(), in -> Requests.DirAndFlag.read(in, "stop")));
        e = assertThrows(ApiException.class,
                () -> JsonIn.request("{\"dir\":\"/s\",\"paused\":true}".getBytes(), in -> Requests.DirAndFlag.read(in, "stop")));
        assertEquals("unknown field 'paused'", e.getMessage());
        assertEquals(new Requests.Clone(1), JsonIn.request("{}".getBytes(), Requests.Clone::read));
    }
}
