/**
 * A Firecracker-compatible front end: one VM per process, driven the way Firecracker is (its command line, its
 * REST API on a Unix socket, its {@code --config-file}), so firecracker-go-sdk, firectl, Kata Containers'
 * Firecracker driver and flintlock start hyper-gen in its place unchanged.
 *
 * <p>A module of its own rather than a package of {@code hg.api}: it is another program (one VM, one process,
 * started per VM by a client) with another API contract, and its start-up is on the client's path, so its
 * runtime holds no more than it needs. It shares {@code hg.api}'s HTTP parts (routing, bounded bodies, strict
 * JSON, the socket file) through a qualified export, and {@code hg.host}'s checks and refusals. It exports
 * nothing: it is run, not linked against.
 */
module hg.firecracker {
    requires hg.api;
    requires com.fasterxml.jackson.core;
    requires org.eclipse.jetty.server;
    requires org.eclipse.jetty.unixdomain.server;
}
