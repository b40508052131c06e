package hg.firecracker;

import com.fasterxml.jackson.core.JsonGenerator;
import hg.api.internal.ApiException;
import hg.api.internal.Call;
import hg.api.internal.JsonIn;
import hg.api.internal.JsonOut;
import hg.api.internal.Reply;
import hg.api.internal.Router;
import hg.api.internal.Router.Route;
import hg.firecracker.Bodies.Action;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Firecracker's endpoints: each reads its body strictly into a {@link Bodies} record, asks the {@link Microvm},
 * and answers 204 (or 200 with a body). Resources Firecracker has and hyper-gen has not are routed too, so they
 * are refused with a line saying so rather than taken for a wrong path.
 */
final class Endpoints {
    private final Microvm vm;

    Endpoints(Microvm vm) {
        this.vm = vm;
    }

    Router router() {
        List<Route> routes = new ArrayList<>(List.of(
                new Route("GET", "/", c -> json(this::writeInfo)),
                new Route("GET", "/version", c -> json(g -> {
                    g.writeStartObject();
                    g.writeStringField("firecracker_version", Main.FIRECRACKER_VERSION);
                    g.writeEndObject();
                })),
                new Route("GET", "/machine-config", c -> json(g -> vm.machineConfig().write(g))),
                new Route("PUT", "/machine-config", c -> done(() -> vm.putMachineConfig(
                        read(c, in -> Bodies.MachineConfig.read(in, Bodies.MachineConfig.DEFAULT, false))))),
                new Route("PATCH", "/machine-config", c -> done(() -> {
                    Bodies.MachineConfig now = vm.machineConfig();
                    vm.putMachineConfig(read(c, in -> Bodies.MachineConfig.read(in, now, true)));
                })),
                new Route("PUT", "/boot-source", c -> done(() -> vm.putBootSource(read(c, Bodies.BootSource::read)))),
                new Route("PUT", "/drives/{id}", c -> done(() -> vm.putDrive(id(c), read(c, Bodies.Drive::read)))),
                new Route("PATCH", "/drives/{id}", c -> done(() -> vm.patchDrive(id(c), read(c, Bodies.PartialDrive::read)))),
                new Route("PUT", "/network-interfaces/{id}", c -> done(() -> vm.putNet(id(c), read(c, Bodies.NetIface::read)))),
                new Route("PATCH", "/network-interfaces/{id}", c -> done(() -> vm.patchNet(id(c),
                        read(c, Bodies.PartialNetIface::read)))),
                new Route("PUT", "/logger", c -> done(() -> vm.putLogger(read(c, Bodies.LoggerConfig::read)))),
                new Route("PUT", "/metrics", c -> done(() -> vm.putMetrics(read(c, Bodies.MetricsConfig::read)))),
                new Route("PUT", "/entropy", c -> done(() -> vm.putEntropy(read(c, Bodies.Entropy::read)))),
                new Route("PUT", "/vsock", c -> done(() -> vm.putVsock(read(c, Bodies.Vsock::read)))),
                new Route("PUT", "/actions", c -> done(() -> act(read(c, Action::read)))),
                new Route("GET", "/vm/config", c -> json(g -> ConfigJson.write(g, vm.fullConfig()))),
                new Route("PATCH", "/vm", c -> done(() -> vm.setPaused(read(c, Bodies.VmStateChange::read).pause()))),
                new Route("PUT", "/snapshot/create", c -> done(() -> vm.createSnapshot(read(c, Bodies.SnapshotCreate::read)))),
                new Route("PUT", "/snapshot/load", c -> done(() -> vm.loadSnapshot(read(c, Bodies.SnapshotLoad::read))))));
        // Firecracker's other resources: answered as not supported, whatever the body.
        for (String m : List.of("GET", "PUT", "PATCH")) {
            unsupported(routes, m, "/mmds", "MMDS (hyper-gen serves no metadata service)");
            unsupported(routes, m, "/hotplug/memory", "memory hotplug");
        }
        unsupported(routes, "PUT", "/mmds/config", "MMDS (hyper-gen serves no metadata service)");
        for (String m : List.of("GET", "PUT", "PATCH")) {
            unsupported(routes, m, "/balloon", "the balloon device");
        }
        unsupported(routes, "GET", "/balloon/statistics", "the balloon device");
        unsupported(routes, "PATCH", "/balloon/statistics", "the balloon device");
        unsupported(routes, "PUT", "/cpu-config", "custom CPU templates (hyper-gen passes the host's CPU features "
                + "as KVM reports them)");
        unsupported(routes, "PUT", "/serial", "serial output to a file (the guest's console is this process's "
                + "standard output)");
        unsupported(routes, "PUT", "/pmem/{id}", "pmem devices");
        unsupported(routes, "PATCH", "/pmem/{id}", "pmem devices");
        return new Router(routes);
    }

    private static void unsupported(List<Route> routes, String method, String path, String what) {
        routes.add(new Route(method, path, c -> {
            throw FcException.notSupported(what);
        }));
    }

    private void writeInfo(JsonGenerator g) throws IOException {
        String state = vm.state();
        g.writeStartObject();
        g.writeStringField("id", vm.instanceId());
        // "started" is what older clients (the one Kata's driver carries) read instead of "state".
        g.writeBooleanField("started", !state.equals("Not started"));
        g.writeStringField("state", state);
        g.writeStringField("vmm_version", Main.FIRECRACKER_VERSION);
        g.writeStringField("app_name", "Firecracker");
        g.writeEndObject();
    }

    private void act(Action a) throws FcException {
        switch (a) {
            case Action.InstanceStart s -> vm.start();
            case Action.SendCtrlAltDel s -> vm.sendCtrlAltDel();
            case Action.FlushMetrics f -> vm.flushMetrics();
        }
    }

    @FunctionalInterface
    private interface Work {
        void run() throws FcException, ApiException, IOException;
    }

    private static Reply done(Work w) throws FcException, ApiException, IOException {
        w.run();
        return new Reply.NoContent();
    }

    private static Reply json(JsonOut.Writer w) {
        return new Reply.Json(200, JsonOut.bytes(w));
    }

    /** A request's body: bounded as the daemon's, read whatever its Content-Type; none is Firecracker's "Empty PUT request." */
    private static <T> T read(Call c, JsonIn.Reader<T> reader) throws ApiException, IOException, FcException {
        byte[] body = c.bodyOfAnyType();
        if (body.length == 0) {
            throw new FcException("Empty " + c.request().getMethod() + " request.");
        }
        return JsonIn.request(body, reader);
    }

    /** The {id} of the path, as Firecracker allows it. */
    private static String id(Call c) throws FcException {
        String id = c.pathId();
        if (id == null || id.isEmpty()) {
            throw new FcException("The ID cannot be empty.");
        }
        if (!id.matches("[A-Za-z0-9_]{1,64}")) {
            throw new FcException("API Resource IDs can only contain alphanumeric characters and underscores.");
        }
        return id;
    }
}
