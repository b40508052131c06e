/**
 * The daemon's HTTP/1.1 + JSON API on a Unix socket ({@link hg.api.ApiServer}) and a client of it that the
 * shell uses as it uses VMs in its own process ({@link hg.api.ApiClient}).
 */
// hg.firecracker is built after this module: its qualified export names a module javac has not seen yet.
@SuppressWarnings("module")
module hg.api {
    requires transitive hg.host;
    requires com.fasterxml.jackson.core;
    requires org.eclipse.jetty.server;
    requires org.eclipse.jetty.unixdomain.server;
    requires org.eclipse.jetty.client;
    // The console's WebSocket on Jetty's core API: its listener API calls endpoints through method handles of
    // public lookup, which needs them in an exported package; the core API is plain interface calls.
    requires org.eclipse.jetty.websocket.core.server;
    requires org.eclipse.jetty.websocket.core.client;
    // Jetty logs through slf4j; without a provider slf4j prints its own warning on the terminal, and jlink
    // links only what is required, so the provider is required here rather than found as a service.
    requires org.eclipse.jetty.logging;

    exports hg.api;
    // The Firecracker front end serves another API over the same parts: routing, bounded bodies, strict JSON
    // reading and writing, the socket file's claim and removal. Its own module, so only it sees them.
    exports hg.api.internal to hg.firecracker;
}
