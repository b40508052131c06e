package hg.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hg.api.internal.Endpoints;
import hg.api.internal.JsonIn;
import hg.api.internal.Router;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The OpenAPI document and the server say the same: every operation it lists answers, every route is listed. */
class OpenApiAgreementTest {
    private static final Set<String> METHODS = Set.of("get", "put", "post", "delete", "patch", "head", "options");

    @TempDir
    Path tmp;

    /** "GET /vms/{id}" for each operation of the document. */
    private static Set<String> documented() throws Exception {
        return JsonIn.answer(Endpoints.openApiDocument(), in -> {
            Set<String> ops = new TreeSet<>();
            in.object("", top -> {
                if (!top.equals("paths")) {
                    return false;
                }
                in.object("paths", path -> {
                    in.object(path, member -> {
                        if (!METHODS.contains(member)) {
                            return false;
                        }
                        ops.add(member.toUpperCase(Locale.ROOT) + " " + path);
                        in.object(member, field -> false);
                        return true;
                    });
                    return true;
                });
                return true;
            });
            return ops;
        });
    }

    @Test
    void everyRouteIsDocumentedAndEveryOperationIsARoute() throws Exception {
        Set<String> routes = new TreeSet<>();
        for (Router.Route r : new Endpoints(null, null, null, null).router().routes()) {
            routes.add(r.method() + " " + r.template());
        }
        assertEquals(routes, documented());
    }

    @Test
    void everyDocumentedOperationAnswers() throws Exception {
        Guests.assumeKvm();
        try (Daemon daemon = Daemon.start(tmp)) {
            assertEquals(201, RawHttp.json(daemon.socket, "POST", "/vms", "{\"kernel\":0,\"image\":1,\"mem\":\"32M\"}").status());
            List<String> answers = new ArrayList<>();
            // DELETE last: the VM the others name must be there for them.
            List<String> ops = new ArrayList<>(documented());
            ops.sort((a, b) -> Boolean.compare(a.startsWith("DELETE"), b.startsWith("DELETE")));
            for (String op : ops) {
                String method = op.substring(0, op.indexOf(' '));
                String path = op.substring(op.indexOf(' ') + 1).replace("{id}", "1");
                RawHttp.Answer a = method.equals("GET") || method.equals("DELETE")
                        ? RawHttp.send(daemon.socket, method, path, null, null)
                        : RawHttp.json(daemon.socket, method, path, "{}");
                answers.add(op + " -> " + a.status());
                assertNotEquals(405, a.status(), op + ": " + a.text());
                if (a.status() == 404) {
                    assertTrue(!a.error().startsWith("no such path"), op + ": " + a.text());
                }
            }
            assertTrue(answers.size() >= 14, answers.toString());
        }
    }
}
