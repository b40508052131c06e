package hg.api.internal;

import hg.api.internal.Requests.Create;
import hg.api.internal.Requests.DirAndFlag;
import hg.api.internal.Requests.DiskRequest;
import hg.api.internal.Router.Route;
import hg.host.Catalog;
import hg.host.CatalogEntry;
import hg.host.CheckedMachines;
import hg.host.GuestAgent;
import hg.host.HostException;
import hg.host.HostException.Kind;
import hg.host.Machines;
import hg.host.Machines.Info;
import hg.host.Shares;
import hg.host.Sizes;
import hg.vmm.VmConfig;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.time.Duration;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.websocket.core.WebSocketComponents;
import org.eclipse.jetty.websocket.core.server.Handshaker;

/**
 * What each endpoint does: it reads the request into values, asks {@link Machines} and {@link Catalog} (whose
 * refusals become the answer's status and line), and writes the answer. The routes here are the API: the
 * OpenAPI document in this module lists the same ones, and a test holds the two together.
 */
public final class Endpoints {
    /** vm_create's defaults in the shell, so a VM made either way is the same VM. */
    static final long DEFAULT_MEMORY = 512 * Sizes.MIB;
    static final int DEFAULT_CPUS = 1;

    private final Machines machines;
    private final Catalog catalog;
    private final ScheduledExecutorService ticker;
    private final byte[] openApi;
    private final Handshaker handshaker = Handshaker.newInstance();
    private final WebSocketComponents websockets;

    /** @param websockets what the console's WebSockets share; the server starts and stops it */
    public Endpoints(Machines machines, Catalog catalog, ScheduledExecutorService ticker, WebSocketComponents websockets)
            throws IOException {
        this.machines = machines;
        this.websockets = websockets;
        this.catalog = catalog;
        this.ticker = ticker;
        this.openApi = openApiDocument();
    }

    /** The OpenAPI document, a resource of this module, served as it is. */
    public static byte[] openApiDocument() throws IOException {
        try (InputStream in = Endpoints.class.getResourceAsStream("/hg/api/openapi.json")) {
            if (in == null) {
                throw new IOException("the resource hg/api/openapi.json is missing from module hg.api");
            }
            return in.readAllBytes();
        }
    }

    public Router router() {
        return new Router(List.of(
                new Route("GET", "/host", c -> json(200, JsonOut.bytes(g -> {
                    g.writeStartObject();
                    g.writeNumberField("max_vcpus", machines.maxVcpus());
                    g.writeStringField("memory_rule", machines.memoryRule());
                    g.writeStringField("network", machines.networkReach());
                    g.writeEndObject();
                }))),
                new Route("GET", "/kernels", c -> listing(catalog.kernelDir(), catalog.kernelDirProblem(), catalog.kernels())),
                new Route("GET", "/images", c -> listing(catalog.imageDir(), catalog.imageDirProblem(), catalog.images())),
                new Route("GET", "/vms", c -> json(200, JsonOut.bytes(g -> InfoJson.writeList(g, machines.list())))),
                new Route("POST", "/vms", this::create),
                new Route("GET", "/vms/{id}", c -> info(200, c.vmId())),
                new Route("DELETE", "/vms/{id}", c -> {
                    machines.destroy(c.vmId());
                    return new Reply.NoContent();
                }),
                new Route("PUT", "/vms/{id}/state", this::setState),
                new Route("PUT", "/vms/{id}/snapshot", this::snapshot),
                new Route("POST", "/vms/restore", this::restore),
                new Route("POST", "/vms/{id}/clone", this::cloneVm),
                new Route("GET", "/vms/{id}/console", this::console),
                new Route("POST", "/vms/{id}/exec", this::exec),
                new Route("GET", "/vms/{id}/files", this::readFile),
                new Route("PUT", "/vms/{id}/files", this::writeFile),
                new Route("GET", "/metrics", c -> new Reply.Body(Metrics.CONTENT_TYPE,
                        Metrics.render(machines.list()).getBytes(StandardCharsets.UTF_8))),
                new Route("GET", "/openapi.json", c -> new Reply.Body("application/json", openApi))));
    }

    private static Reply json(int status, byte[] body) {
        return new Reply.Json(status, body);
    }

    private static Reply listing(Path dir, String problem, List<CatalogEntry> entries) {
        return json(200, JsonOut.bytes(g -> CatalogJson.write(g, new CatalogJson.Listing(dir, problem, entries))));
    }

    private Reply info(int status, int id) throws HostException {
        Info vm = find(id);
        return new Reply.Json(status, JsonOut.bytes(g -> InfoJson.write(g, vm)), status == 201 ? "/vms/" + id : null);
    }

    private Info find(int id) throws HostException {
        List<Info> vms = machines.list();
        for (Info vm : vms) {
            if (vm.id() == id) {
                return vm;
            }
        }
        throw new HostException(Kind.NOT_FOUND, "no vm with id " + id + " (" + CheckedMachines.knownVms(vms) + ")");
    }

    private Reply create(Call c) throws Exception {
        Create r = JsonIn.request(c.body(), Create::read);
        CatalogEntry.Kernel kernel = catalog.kernel(r.kernel());
        CatalogEntry.Image image = catalog.image(r.image());
        long memory = DEFAULT_MEMORY;
        if (r.mem() != null) {
            memory = Sizes.parseMemory(r.mem());
        } else if (r.memMib() != null) {
            if (r.memMib() < 1 || r.memMib() > Long.MAX_VALUE / Sizes.MIB) {
                throw ApiException.badRequest("field 'mem_mib' is out of range: give the guest's memory in MiB, e.g. 512");
            }
            memory = r.memMib() * Sizes.MIB;
        }
        List<Machines.Disk> disks = new ArrayList<>();
        for (int i = 0; i < r.disks().size(); i++) {
            disks.add(disk(r.disks().get(i), "disks[" + i + "]"));
        }
        List<VmConfig.Share> shares = new ArrayList<>();
        for (int i = 0; i < r.shares().size(); i++) {
            Requests.ShareRequest s = r.shares().get(i);
            shares.add(Shares.of(s.dir(), s.tag(), s.readOnly(), "shares[" + i + "]"));
        }
        boolean net = r.net() != null && r.net();
        boolean vhost = r.vhost() == null || r.vhost();
        int id = machines.create(new Machines.Spec(kernel.path(), image.path(), memory,
                r.cpus() == null ? DEFAULT_CPUS : r.cpus(), r.cmdline() == null ? "" : r.cmdline(), r.readOnly(), disks,
                net, vhost, Optional.empty(), Optional.empty(), vsockPath(r.vsock()), shares, r.hugepages()));
        return info(201, id);
    }

    /** An absolute path whose directory exists; the VMM makes the socket file. */
    private static Optional<Path> vsockPath(String value) throws ApiException {
        if (value == null) {
            return Optional.empty();
        }
        Path p;
        try {
            p = Path.of(value);
        } catch (InvalidPathException e) {
            throw ApiException.badRequest("field 'vsock' is not a path");
        }
        if (!p.isAbsolute() || p.getFileName() == null) {
            throw ApiException.badRequest("field 'vsock' must be an absolute path for the socket, e.g. /run/hyper-gen/build.vsock");
        }
        if (!Files.isDirectory(p.getParent())) {
            throw ApiException.badRequest("field 'vsock': directory " + p.getParent() + " does not exist");
        }
        return Optional.of(p);
    }

    private Machines.Disk disk(DiskRequest d, String where) throws HostException {
        if (d.path() != null) {
            Path p = Path.of(d.path());
            if (!p.isAbsolute() || !Files.isRegularFile(p)) {
                throw new HostException(where + ".path " + d.path() + ": give the absolute path of a regular file");
            }
            return new Machines.Disk(p, d.readOnly());
        }
        try {
            return new Machines.Disk(catalog.image(d.image()).path(), d.readOnly());
        } catch (HostException e) {
            throw new HostException(e.kind(), where + ".image " + d.image() + ": " + e.getMessage());
        }
    }

    private Reply setState(Call c) throws Exception {
        int id = c.vmId();
        Requests.SetState r = JsonIn.request(c.body(), Requests.SetState::read);
        if (r.paused()) {
            machines.pause(id);
        } else {
            machines.resume(id);
        }
        return info(200, id);
    }

    private Reply snapshot(Call c) throws Exception {
        int id = c.vmId();
        DirAndFlag r = JsonIn.request(c.body(), in -> DirAndFlag.read(in, "stop"));
        Machines.Snapshot s = machines.snapshot(id, absolute(r.dir()), r.flag());
        return json(200, JsonOut.bytes(g -> SnapshotJson.write(g, s)));
    }

    private Reply restore(Call c) throws Exception {
        DirAndFlag r = JsonIn.request(c.body(), in -> DirAndFlag.read(in, "paused"));
        return info(201, machines.restore(absolute(r.dir()), r.flag()));
    }

    /** The daemon's working directory means nothing to a client: directories are given whole. */
    private static Path absolute(String dir) throws ApiException {
        Path p = Path.of(dir);
        if (!p.isAbsolute() || dir.indexOf('\0') >= 0) {
            throw ApiException.badRequest("field 'dir' must be an absolute path, not " + dir);
        }
        return p;
    }

    /** Output kept per stream for an exec's answer; past it, the rest is counted and dropped. */
    static final int MAX_EXEC_OUTPUT = 1024 * 1024;

    private Reply exec(Call c) throws Exception {
        int id = c.vmId();
        Requests.Exec r = JsonIn.request(c.body(), Requests.Exec::read);
        GuestAgent agent = GuestAgent.of(machines, id);
        CappedOutput out = new CappedOutput(MAX_EXEC_OUTPUT), err = new CappedOutput(MAX_EXEC_OUTPUT);
        int status;
        try {
            status = agent.exec(new GuestAgent.Command(r.argv(), r.env(), r.cwd()),
                    r.stdin() == null ? null : new java.io.ByteArrayInputStream(r.stdin().getBytes(StandardCharsets.UTF_8)),
                    out, err, r.timeoutSeconds() == null ? null : Duration.ofSeconds(r.timeoutSeconds()));
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest(e.getMessage());
        }
        return json(200, JsonOut.bytes(g -> {
            g.writeStartObject();
            g.writeNumberField("exit_code", status);
            g.writeStringField("stdout", out.text());
            g.writeStringField("stderr", err.text());
            g.writeNumberField("stdout_dropped_bytes", out.dropped());
            g.writeNumberField("stderr_dropped_bytes", err.dropped());
            g.writeEndObject();
        }));
    }

    /** The header that carries a guest file's permission bits, in octal, both ways. */
    static final String MODE_HEADER = "Hyper-Gen-File-Mode";

    /**
     * A guest's file, streamed as the agent sends it: never held whole, whatever its size. Once the first byte
     * went out the status cannot change, so a copy that fails then aborts the answer short of its length.
     */
    private Reply readFile(Call c) throws Exception {
        int id = c.vmId();
        String path = guestPath(c);
        GuestAgent agent = GuestAgent.of(machines, id);
        Response response = c.response();
        // Closed only when all came: closing ends the answer, which a refusal before the first byte must not.
        OutputStream body = Content.Sink.asOutputStream(response);
        try {
            agent.copyOut(path, (mode, size) -> {
                response.setStatus(200);
                response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/octet-stream");
                response.getHeaders().put(HttpHeader.CONTENT_LENGTH, size);
                response.getHeaders().put(MODE_HEADER, String.format("%04o", mode));
                return body;
            });
            body.close();
        } catch (HostException | IOException e) {
            if (!response.isCommitted()) {
                throw e;
            }
            c.callback().failed(e);
            return new Reply.Answered();
        }
        c.callback().succeeded();
        return new Reply.Answered();
    }

    /** The request's body becomes the guest's file, streamed through as it comes; its mode from the header (0644). */
    private Reply writeFile(Call c) throws Exception {
        int id = c.vmId();
        String path = guestPath(c);
        String modeText = c.request().getHeaders().get(MODE_HEADER);
        int mode = 0644;
        if (modeText != null) {
            if (!modeText.matches("0?[0-7]{1,3}")) {
                throw ApiException.badRequest("header " + MODE_HEADER + " takes permission bits in octal, e.g. 0644, not "
                        + modeText);
            }
            mode = Integer.parseInt(modeText, 8);
        }
        GuestAgent agent = GuestAgent.of(machines, id);
        try {
            agent.copyIn(Content.Source.asInputStream(c.request()), mode, path);
        } catch (IOException e) {
            throw ApiException.badRequest("the request's body ended early: " + e.getMessage());
        }
        return new Reply.NoContent();
    }

    /** The guest path of a files request: its {@code path} query parameter, absolute, as the guest's root sees it. */
    private static String guestPath(Call c) throws ApiException {
        String path = Request.extractQueryParameters(c.request()).getValue("path");
        if (path == null || !path.startsWith("/") || path.indexOf('\0') >= 0) {
            throw ApiException.badRequest("give the guest's file as an absolute path: ?path=/etc/hostname"
                    + (path == null ? "" : ", not " + path.replace('\0', '?')));
        }
        return path;
    }

    private Reply cloneVm(Call c) throws Exception {
        int id = c.vmId();
        Requests.Clone r = JsonIn.request(c.bodyOrEmptyObject(), Requests.Clone::read);
        List<Integer> ids = machines.clone(id, r.count());
        List<Info> made = machines.list().stream().filter(vm -> ids.contains(vm.id())).toList();
        return json(201, JsonOut.bytes(g -> InfoJson.writeList(g, made)));
    }

    private Reply console(Call c) throws Exception {
        int id = c.vmId();
        find(id);
        if (!handshaker.isWebSocketUpgradeRequest(c.request())
                || !handshaker.upgradeRequest((rq, rs, cb) -> new ConsoleSocket(machines, id, ticker), c.request(),
                        c.response(), c.callback(), websockets, config -> {
                            config.setIdleTimeout(Duration.ZERO); // a console may sit idle for hours
                            config.setMaxBinaryMessageSize(JsonIn.MAX_REQUEST);
                        })) {
            throw ApiException.badRequest("GET /vms/" + id + "/console is a WebSocket: ask for an upgrade to websocket");
        }
        return new Reply.Answered();
    }
}
