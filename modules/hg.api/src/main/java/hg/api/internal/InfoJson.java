package hg.api.internal;

import com.fasterxml.jackson.core.JsonGenerator;
import hg.host.Machines.AttachedDisk;
import hg.host.Machines.Counters;
import hg.host.Machines.Info;
import hg.host.Machines.State;
import hg.vmm.VmConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** A VM's {@link Info} as JSON, both ways. */
public final class InfoJson {
    private InfoJson() {}

    public static void write(JsonGenerator g, Info vm) throws IOException {
        g.writeStartObject();
        g.writeNumberField("id", vm.id());
        g.writeStringField("kernel", vm.kernel().toString());
        g.writeArrayFieldStart("disks");
        for (AttachedDisk d : vm.disks()) {
            g.writeStartObject();
            g.writeStringField("device", d.device());
            g.writeStringField("path", d.path().toString());
            g.writeBooleanField("read_only", d.readOnly());
            g.writeEndObject();
        }
        g.writeEndArray();
        g.writeNumberField("cpus", vm.cpus());
        g.writeNumberField("memory_bytes", vm.memoryBytes());
        g.writeStringField("state", stateName(vm.state()));
        JsonOut.nullable(g, "stop_reason", vm.state() instanceof State.Stopped s ? s.reason() : null);
        g.writeNumberField("uptime_ms", vm.uptime().toMillis());
        g.writeStringField("net", vm.net());
        JsonOut.nullable(g, "vsock", vm.vsock().map(Path::toString).orElse(null));
        JsonOut.nullable(g, "huge_pages", vm.hugePages().isEmpty() ? null : vm.hugePages());
        g.writeArrayFieldStart("shares");
        for (VmConfig.Share s : vm.shares()) {
            g.writeStartObject();
            g.writeStringField("dir", s.dir().toString());
            g.writeStringField("tag", s.tag());
            g.writeBooleanField("read_only", s.readOnly());
            g.writeEndObject();
        }
        g.writeEndArray();
        Counters c = vm.counters();
        g.writeObjectFieldStart("counters");
        g.writeNumberField("vcpu_exits", c.vcpuExits());
        g.writeNumberField("disk_read_bytes", c.diskReadBytes());
        g.writeNumberField("disk_write_bytes", c.diskWriteBytes());
        g.writeNumberField("net_rx_bytes", c.netRxBytes());
        g.writeNumberField("net_tx_bytes", c.netTxBytes());
        g.writeEndObject();
        g.writeEndObject();
    }

    public static void writeList(JsonGenerator g, List<Info> vms) throws IOException {
        g.writeStartArray();
        for (Info vm : vms) {
            write(g, vm);
        }
        g.writeEndArray();
    }

    /** "running", "paused" or "stopped", as the API and /metrics name the states. */
    public static String stateName(State s) {
        return switch (s) {
            case State.Running r -> "running";
            case State.Paused p -> "paused";
            case State.Stopped st -> "stopped";
        };
    }

    public static Info read(JsonIn in) throws IOException, ApiException {
        var b = new Object() {
            int id, cpus;
            String kernel = "", state = "running", reason = "", net = "-", vsock;
            List<AttachedDisk> disks = List.of();
            List<VmConfig.Share> shares = List.of();
            String hugePages;
            long memory, uptime;
            Counters counters = Counters.NONE;
        };
        in.object("", name -> {
            switch (name) {
                case "id" -> b.id = in.smallInteger(name);
                case "kernel" -> b.kernel = in.string(name);
                case "disks" -> b.disks = in.array(name, Integer.MAX_VALUE, InfoJson::disk);
                case "cpus" -> b.cpus = in.smallInteger(name);
                case "memory_bytes" -> b.memory = in.integer(name);
                case "state" -> b.state = in.string(name);
                case "stop_reason" -> b.reason = in.optionalString(name);
                case "uptime_ms" -> b.uptime = in.integer(name);
                case "net" -> b.net = in.string(name);
                case "vsock" -> b.vsock = in.optionalString(name);
                case "huge_pages" -> b.hugePages = in.optionalString(name);
                case "shares" -> b.shares = in.array(name, Requests.MAX_SHARES, InfoJson::share);
                case "counters" -> b.counters = counters(in);
                default -> {
                    return false;
                }
            }
            return true;
        });
        State state = switch (b.state) {
            case "paused" -> new State.Paused();
            case "stopped" -> new State.Stopped(b.reason == null ? "" : b.reason);
            default -> new State.Running();
        };
        return new Info(b.id, Path.of(b.kernel), b.disks, b.cpus, b.memory, state, Duration.ofMillis(b.uptime), b.net,
                b.counters, Optional.ofNullable(b.vsock).map(Path::of), b.shares, b.hugePages == null ? "" : b.hugePages);
    }

    private static VmConfig.Share share(JsonIn in) throws IOException, ApiException {
        Requests.ShareRequest r = Requests.ShareRequest.read(in, "shares");
        try {
            return new VmConfig.Share(Path.of(r.dir()), r.tag() == null ? "" : r.tag(), r.readOnly());
        } catch (RuntimeException e) {
            throw ApiException.badRequest("shares: " + e.getMessage());
        }
    }

    private static AttachedDisk disk(JsonIn in) throws IOException, ApiException {
        var b = new Object() {
            String device = "", path = "";
            boolean ro;
        };
        in.object("disks", name -> {
            switch (name) {
                case "device" -> b.device = in.string(name);
                case "path" -> b.path = in.string(name);
                case "read_only" -> b.ro = in.bool(name);
                default -> {
                    return false;
                }
            }
            return true;
        });
        return new AttachedDisk(b.device, Path.of(b.path), b.ro);
    }

    private static Counters counters(JsonIn in) throws IOException, ApiException {
        long[] v = new long[5];
        List<String> names = List.of("vcpu_exits", "disk_read_bytes", "disk_write_bytes", "net_rx_bytes", "net_tx_bytes");
        in.object("counters", name -> {
            int i = names.indexOf(name);
            if (i < 0) {
                return false;
            }
            v[i] = in.integer(name);
            return true;
        });
        return new Counters(v[0], v[1], v[2], v[3], v[4]);
    }
}
