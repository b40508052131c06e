package hg.api;

import hg.api.internal.ApiException;
import hg.api.internal.CatalogJson;
import hg.api.internal.ClientConsole;
import hg.api.internal.InfoJson;
import hg.api.internal.JsonIn;
import hg.api.internal.JsonOut;
import hg.api.internal.Requests;
import hg.api.internal.SnapshotJson;
import hg.api.internal.UnixHttp;
import hg.host.Catalog;
import hg.host.CatalogEntry;
import hg.host.HostException;
import hg.host.HostException.Kind;
import hg.host.Machines;
import hg.host.Sizes;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.stream.Collectors;

/**
 * A daemon's VMs and catalog through its API, so a shell drives a daemon as it drives VMs in its own
 * process: each refusal comes back as the daemon's line with the {@link Kind} its status stands for.
 * Unlike an in-process {@link Machines}, {@link #close} only disconnects: the daemon's VMs run on.
 */
public final class ApiClient implements Machines, Catalog {
    private final UnixHttp http;
    private final int maxVcpus;
    /** The VMs this client last knew of: what a daemon that starts again has lost. */
    private final Set<Integer> known = new ConcurrentSkipListSet<>();
    private final Queue<String> notices = new ConcurrentLinkedQueue<>();

    private ApiClient(UnixHttp http, int maxVcpus) {
        this.http = http;
        this.maxVcpus = maxVcpus;
    }

    /** Connects to the daemon at {@code socket}; one line says so if none answers there. */
    public static ApiClient connect(Path socket) throws IOException {
        UnixHttp http = new UnixHttp(socket);
        try {
            byte[] host = http.exchange("GET", "/host", null);
            int max = answer(host, in -> in.onlyField("max_vcpus", 1, v -> v.smallInteger("max_vcpus")));
            return new ApiClient(http, max);
        } catch (HostException e) {
            http.close();
            throw new IOException(e.getMessage(), e);
        }
    }

    /** An answer of the API as it came, for a client that shows it as is (hyper-gen remote). */
    public record Answer(int status, String reason, byte[] body) {}

    /**
     * One request to whatever API serves {@code socket} (the daemon's, or a Firecracker front end's, which has
     * no GET /host), its answer as it came; only a socket that does not answer is a HostException.
     */
    public static Answer once(Path socket, String method, String path, byte[] body) throws IOException, HostException {
        try (UnixHttp http = new UnixHttp(socket)) {
            UnixHttp.Answer a = http.raw(method, path, body);
            return new Answer(a.status(), a.reason(), a.body());
        }
    }

    /**
     * Sends {@code method path} with a JSON {@code body} (or none) and returns the answer whatever its status;
     * only a daemon that does not answer is a HostException.
     */
    public Answer request(String method, String path, byte[] body) throws HostException {
        UnixHttp.Answer a = http.raw(method, path, body);
        return new Answer(a.status(), a.reason(), a.body());
    }

    /** The socket of the daemon. */
    public Path socket() {
        return http.socket();
    }

    private static <T> T answer(byte[] body, JsonIn.Reader<T> reader) throws HostException {
        try {
            return JsonIn.answer(body, reader);
        } catch (ApiException e) {
            throw new HostException(Kind.FAILED, "the hyper-gen daemon's answer could not be read: " + e.getMessage());
        }
    }

    private byte[] send(String method, String path, JsonOut.Writer body) throws HostException {
        try {
            return http.exchange(method, path, body == null ? null : JsonOut.bytes(body));
        } finally {
            if (http.restartedSinceAsked()) {
                List<Integer> lost = List.copyOf(known);
                known.clear();
                notices.add("the hyper-gen daemon started again: " + (lost.isEmpty() ? "no VMs were lost"
                        : (lost.size() == 1 ? "vm " + lost.getFirst() + " was lost"
                        : "vms " + lost.stream().map(String::valueOf).collect(Collectors.joining(", ")) + " were lost")));
            }
        }
    }

    @Override
    public List<String> notices() {
        List<String> out = new ArrayList<>();
        for (String n; (n = notices.poll()) != null; ) {
            out.add(n);
        }
        return out;
    }

    // ---- Machines

    @Override
    public int maxVcpus() {
        return maxVcpus; // KVM's limit does not change while the daemon runs
    }

    @Override
    public String memoryRule() {
        return hostLine("memory_rule");
    }

    @Override
    public String networkReach() {
        return hostLine("network");
    }

    /** A line of GET /host for help to show; what went wrong asking, if it did. */
    private String hostLine(String field) {
        try {
            return answer(send("GET", "/host", null), in -> in.onlyField(field, "", v -> v.string(field)));
        } catch (HostException e) {
            return e.getMessage();
        }
    }

    @Override
    public int create(Spec spec) throws HostException {
        CatalogJson.Listing kernels = listing("/kernels");
        CatalogJson.Listing images = listing("/images");
        List<Requests.DiskRequest> disks = new ArrayList<>();
        for (Disk d : spec.disks()) {
            disks.add(inDir(d.path(), images.dir())
                    ? new Requests.DiskRequest(d.path().getFileName().toString(), null, d.readOnly())
                    : new Requests.DiskRequest(null, d.path().toAbsolutePath().toString(), d.readOnly()));
        }
        long mem = spec.memoryBytes();
        Requests.Create request = new Requests.Create(catalogName(spec.kernel(), kernels.dir(), "kernel"),
                catalogName(spec.image(), images.dir(), "image"), mem % Sizes.MIB == 0 ? mem / Sizes.MIB : null,
                mem % Sizes.MIB == 0 ? null : mem / Sizes.KIB + "K", spec.cpus(), spec.cmdline(), spec.readOnly(), disks,
                spec.net(), spec.vhost(), spec.vsock().map(Path::toString).orElse(null),
                spec.shares().stream().map(s -> new Requests.ShareRequest(s.dir().toString(), s.tag(), s.readOnly())).toList(),
                spec.hugepages());
        return remember(answer(send("POST", "/vms", request::write), InfoJson::read).id());
    }

    /** The daemon boots files of its own catalog, named by file name there. */
    private static String catalogName(Path file, Path dir, String what) throws HostException {
        if (!inDir(file, dir)) {
            throw new HostException(file + " is not in the daemon's " + what + " directory "
                    + (dir == null ? "(it has none)" : dir) + ": give a " + what + " of " + what + "_list");
        }
        return file.getFileName().toString();
    }

    private static boolean inDir(Path file, Path dir) {
        return dir != null && Objects.equals(file.toAbsolutePath().getParent(), dir.toAbsolutePath());
    }

    @Override
    public List<Info> list() {
        try {
            List<Info> vms = answer(send("GET", "/vms", null), in -> in.array("", Integer.MAX_VALUE, InfoJson::read));
            known.retainAll(vms.stream().map(Info::id).toList());
            vms.forEach(vm -> known.add(vm.id()));
            return vms;
        } catch (HostException e) {
            // Machines.list() cannot refuse; a daemon that is gone is no empty list either
            throw new UncheckedIOException(new IOException(e.getMessage(), e));
        }
    }

    @Override
    public Console attach(int id, OutputStream sink) throws HostException {
        send("GET", "/vms/" + id, null); // the daemon's own line for a VM that is not there
        ClientConsole console = new ClientConsole(id, sink);
        try {
            http.websocket("/vms/" + id + "/console", console);
        } catch (HostException | RuntimeException e) {
            console.close(); // its screen's thread
            throw e;
        }
        return console;
    }

    @Override
    public void pause(int id) throws HostException {
        send("PUT", "/vms/" + id + "/state", new Requests.SetState(true)::write);
    }

    @Override
    public void resume(int id) throws HostException {
        send("PUT", "/vms/" + id + "/state", new Requests.SetState(false)::write);
    }

    @Override
    public Snapshot snapshot(int id, Path dir, boolean stop) throws HostException {
        Requests.DirAndFlag r = new Requests.DirAndFlag(dir.toAbsolutePath().toString(), stop);
        return answer(send("PUT", "/vms/" + id + "/snapshot", g -> r.write(g, "stop")), SnapshotJson::read);
    }

    @Override
    public int restore(Path dir, boolean paused) throws HostException {
        Requests.DirAndFlag r = new Requests.DirAndFlag(dir.toAbsolutePath().toString(), paused);
        return remember(answer(send("POST", "/vms/restore", g -> r.write(g, "paused")), InfoJson::read).id());
    }

    @Override
    public List<Integer> clone(int id, int count) throws HostException {
        List<Info> clones = answer(send("POST", "/vms/" + id + "/clone", new Requests.Clone(count)::write),
                in -> in.array("", Integer.MAX_VALUE, InfoJson::read));
        return clones.stream().map(Info::id).map(this::remember).toList();
    }

    @Override
    public void destroy(int id) throws HostException {
        send("DELETE", "/vms/" + id, null);
        known.remove(id);
    }

    private int remember(int id) {
        known.add(id);
        return id;
    }

    /** Disconnects; the daemon and its VMs run on. */
    @Override
    public void close() {
        http.close();
    }

    // ---- Catalog

    private CatalogJson.Listing listing(String path) throws HostException {
        return answer(send("GET", path, null), CatalogJson::read);
    }

    /** The listing, or an empty one whose problem is why the daemon could not give it. */
    private CatalogJson.Listing listingOrProblem(String path) {
        try {
            return listing(path);
        } catch (HostException e) {
            return new CatalogJson.Listing(null, e.getMessage(), List.of());
        }
    }

    @Override
    public List<CatalogEntry> kernels() {
        return listingOrProblem("/kernels").entries();
    }

    @Override
    public List<CatalogEntry> images() {
        return listingOrProblem("/images").entries();
    }

    @Override
    public Path kernelDir() {
        return listingOrProblem("/kernels").dir();
    }

    @Override
    public Path imageDir() {
        return listingOrProblem("/images").dir();
    }

    @Override
    public String kernelDirProblem() {
        return listingOrProblem("/kernels").problem();
    }

    @Override
    public String imageDirProblem() {
        return listingOrProblem("/images").problem();
    }
}
