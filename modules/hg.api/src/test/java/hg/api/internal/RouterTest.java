package hg.api.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import java.util.List;
import org.junit.jupiter.api.Test;

class RouterTest {
    private static final Router.Action NONE = c -> new Reply.NoContent();
    private final Router router = new Router(List.of(new Router.Route("GET", "/vms", NONE),
            new Router.Route("POST", "/vms", NONE), new Router.Route("GET", "/vms/{id}", NONE),
            new Router.Route("DELETE", "/vms/{id}", NONE), new Router.Route("POST", "/vms/restore", NONE),
            new Router.Route("PUT", "/vms/{id}/state", NONE)));

    @Test
    void aPathLeadsToItsRouteAndId() {
        Router.Match.Found f = assertInstanceOf(Router.Match.Found.class, router.match("PUT", "/vms/7/state"));
        assertEquals("/vms/{id}/state", f.route().template());
        assertEquals("7", f.id());
        assertEquals("/vms", assertInstanceOf(Router.Match.Found.class, router.match("GET", "/vms/")).route().template());
    }

    @Test
    void aLiteralSegmentWinsOverAnId() {
        assertEquals("/vms/restore", assertInstanceOf(Router.Match.Found.class, router.match("POST", "/vms/restore"))
                .route().template());
        assertEquals(List.of("POST"), assertInstanceOf(Router.Match.WrongMethod.class, router.match("GET", "/vms/restore"))
                .allow());
    }

    @Test
    void wrongMethodsAndUnknownPaths() {
        assertEquals(List.of("GET", "POST"), assertInstanceOf(Router.Match.WrongMethod.class, router.match("DELETE", "/vms"))
                .allow());
        assertEquals(List.of("DELETE", "GET"), assertInstanceOf(Router.Match.WrongMethod.class, router.match("PUT", "/vms/1"))
                .allow());
        assertInstanceOf(Router.Match.NoPath.class, router.match("GET", "/vm"));
        assertInstanceOf(Router.Match.NoPath.class, router.match("GET", "/vms/1/state/x"));
        assertInstanceOf(Router.Match.NoPath.class, router.match("GET", "/"));
    }
}
