package hg.firecracker;

import com.fasterxml.jackson.core.JsonGenerator;
import hg.api.internal.ApiException;
import hg.api.internal.JsonIn;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The bodies of Firecracker's API as records, each read strictly (an unknown field, a wrong type or a missing
 * required field is refused, naming it) and written back the way GET answers show them. Field names and
 * defaults are those of Firecracker's swagger document.
 */
final class Bodies {
    private Bodies() {}

    /** A JSON object's fields: one reader per name; an unknown name is refused by {@link JsonIn}. */
    @FunctionalInterface
    interface Fields {
        boolean read(String name, JsonIn in) throws IOException, ApiException;
    }

    static void object(JsonIn in, String where, Fields fields) throws IOException, ApiException {
        in.object(where, name -> fields.read(name, in));
    }

    static <T> T required(T value, String field) throws ApiException {
        if (value == null) {
            throw JsonIn.missing(field);
        }
        return value;
    }

    /** {@code size}, {@code one_time_burst} and {@code refill_time} (ms) of a token bucket. */
    record TokenBucket(long size, Long oneTimeBurst, long refillTime) {
        static TokenBucket read(JsonIn in, String where) throws IOException, ApiException {
            var f = new Object() {
                Long size, burst, refill;
            };
            object(in, where, (name, v) -> {
                switch (name) {
                    case "size" -> f.size = nonNegative(v, JsonIn.join(where, name));
                    case "one_time_burst" -> f.burst = nonNegative(v, JsonIn.join(where, name));
                    case "refill_time" -> f.refill = nonNegative(v, JsonIn.join(where, name));
                    default -> {
                        return false;
                    }
                }
                return true;
            });
            return new TokenBucket(required(f.size, JsonIn.join(where, "size")), f.burst,
                    required(f.refill, JsonIn.join(where, "refill_time")));
        }

        void write(JsonGenerator g) throws IOException {
            g.writeStartObject();
            g.writeNumberField("size", size);
            if (oneTimeBurst != null) {
                g.writeNumberField("one_time_burst", oneTimeBurst);
            }
            g.writeNumberField("refill_time", refillTime);
            g.writeEndObject();
        }
    }

    private static long nonNegative(JsonIn in, String field) throws IOException, ApiException {
        long v = in.integer(field);
        if (v < 0) {
            throw ApiException.badRequest("field '" + field + "' must not be negative");
        }
        return v;
    }

    /**
     * A rate limiter as Firecracker takes it. hyper-gen accepts and reports it but does not enforce it (its
     * devices have no token buckets yet); the README says so.
     */
    record RateLimiter(TokenBucket bandwidth, TokenBucket ops) {
        static RateLimiter read(JsonIn in, String where) throws IOException, ApiException {
            var f = new Object() {
                TokenBucket bandwidth, ops;
            };
            object(in, where, (name, v) -> {
                switch (name) {
                    case "bandwidth" -> f.bandwidth = nullOr(v, () -> TokenBucket.read(v, JsonIn.join(where, name)));
                    case "ops" -> f.ops = nullOr(v, () -> TokenBucket.read(v, JsonIn.join(where, name)));
                    default -> {
                        return false;
                    }
                }
                return true;
            });
            return new RateLimiter(f.bandwidth, f.ops);
        }

        static void write(JsonGenerator g, String name, RateLimiter r) throws IOException {
            if (r == null) {
                return;
            }
            g.writeObjectFieldStart(name);
            if (r.bandwidth != null) {
                g.writeFieldName("bandwidth");
                r.bandwidth.write(g);
            }
            if (r.ops != null) {
                g.writeFieldName("ops");
                r.ops.write(g);
            }
            g.writeEndObject();
        }
    }

    @FunctionalInterface
    interface Read<T> {
        T read() throws IOException, ApiException;
    }

    /** JSON null as Java null (serde's Option), else what {@code read} makes of the value. */
    static <T> T nullOr(JsonIn in, Read<T> read) throws IOException, ApiException {
        return in.token() == com.fasterxml.jackson.core.JsonToken.VALUE_NULL ? null : read.read();
    }

    /** vcpu_count, mem_size_mib, smt, track_dirty_pages, huge_pages and cpu_template. */
    record MachineConfig(int vcpuCount, long memSizeMib, boolean smt, boolean trackDirtyPages, String hugePages,
                         String cpuTemplate) {
        static final MachineConfig DEFAULT = new MachineConfig(1, 128, false, false, "None", null);
        static final int MAX_VCPUS = 32;

        /** PUT takes the two required fields and defaults the rest; PATCH ({@code partial}) changes only what it names. */
        static MachineConfig read(JsonIn in, MachineConfig base, boolean partial) throws IOException, ApiException {
            var f = new Object() {
                Integer vcpus;
                Long mem;
                Boolean smt, dirty;
                String huge, template;
                boolean templateGiven;
            };
            object(in, "", (name, v) -> {
                switch (name) {
                    case "vcpu_count" -> f.vcpus = v.smallInteger(name);
                    case "mem_size_mib" -> f.mem = v.integer(name);
                    case "smt" -> f.smt = v.bool(name);
                    case "track_dirty_pages" -> f.dirty = v.bool(name);
                    case "huge_pages" -> f.huge = v.string(name);
                    case "cpu_template" -> {
                        f.template = v.optionalString(name);
                        f.templateGiven = true;
                    }
                    default -> {
                        return false;
                    }
                }
                return true;
            });
            MachineConfig from = partial ? base : DEFAULT;
            if (!partial) {
                required(f.vcpus, "vcpu_count");
                required(f.mem, "mem_size_mib");
            }
            return new MachineConfig(f.vcpus != null ? f.vcpus : from.vcpuCount, f.mem != null ? f.mem : from.memSizeMib,
                    f.smt != null ? f.smt : from.smt, f.dirty != null ? f.dirty : from.trackDirtyPages,
                    f.huge != null ? f.huge : from.hugePages, f.templateGiven ? f.template : from.cpuTemplate);
        }

        /** Firecracker's own checks first (its lines), then what hyper-gen does not do. */
        void check() throws FcException {
            if (vcpuCount < 1 || vcpuCount > MAX_VCPUS || smt && vcpuCount > 1 && vcpuCount % 2 != 0) {
                throw new FcException("Machine config error: The vCPU number is invalid! The vCPU number can only be 1 "
                        + "or an even number when SMT is enabled.");
            }
            if (memSizeMib < 1 || memSizeMib > Long.MAX_VALUE >> 20) {
                throw new FcException("Machine config error: The memory size (MiB) is invalid.");
            }
            switch (hugePages) {
                case "None", "Transparent" -> { }
                case "2M" -> {
                    if (memSizeMib % 2 != 0) {
                        throw new FcException("Machine config error: The memory size (MiB) must be a multiple of 2 "
                                + "with huge_pages 2M.");
                    }
                }
                default -> throw new FcException("Machine config error: unknown huge_pages '" + hugePages
                        + "': one of None, Transparent, 2M");
            }
            if (smt) {
                throw FcException.notSupported("smt (hyper-gen gives a guest no SMT siblings: set smt to false)");
            }
            if (cpuTemplate != null && !cpuTemplate.equals("None")) {
                throw FcException.notSupported("cpu_template " + cpuTemplate + " (hyper-gen passes the host's CPU "
                        + "features as KVM reports them)");
            }
        }

        void write(JsonGenerator g) throws IOException {
            g.writeStartObject();
            g.writeNumberField("vcpu_count", vcpuCount);
            g.writeNumberField("mem_size_mib", memSizeMib);
            g.writeBooleanField("smt", smt);
            if (cpuTemplate != null) {
                g.writeStringField("cpu_template", cpuTemplate);
            }
            g.writeBooleanField("track_dirty_pages", trackDirtyPages);
            g.writeStringField("huge_pages", hugePages);
            g.writeEndObject();
        }
    }

    record BootSource(String kernelImagePath, String bootArgs, String initrdPath) {
        static BootSource read(JsonIn in) throws IOException, ApiException {
            var f = new Object() {
                String kernel, args, initrd;
            };
            object(in, "", (name, v) -> {
                switch (name) {
                    case "kernel_image_path" -> f.kernel = v.string(name);
                    case "boot_args" -> f.args = v.optionalString(name);
                    case "initrd_path" -> f.initrd = v.optionalString(name);
                    default -> {
                        return false;
                    }
                }
                return true;
            });
            return new BootSource(required(f.kernel, "kernel_image_path"), f.args, f.initrd);
        }

        void write(JsonGenerator g) throws IOException {
            g.writeStartObject();
            g.writeStringField("kernel_image_path", kernelImagePath);
            nullable(g, "initrd_path", initrdPath);
            nullable(g, "boot_args", bootArgs);
            g.writeEndObject();
        }
    }

    static void nullable(JsonGenerator g, String name, String value) throws IOException {
        if (value == null) {
            g.writeNullField(name);
        } else {
            g.writeStringField(name, value);
        }
    }

    /** A block device: virtio-blk on a raw file. */
    record Drive(String driveId, String pathOnHost, boolean isRootDevice, String partuuid, boolean isReadOnly,
                 String cacheType, String ioEngine, RateLimiter rateLimiter) {
        static Drive read(JsonIn in) throws IOException, ApiException {
            var f = new Object() {
                String id, path, partuuid, cache = "Unsafe", engine = "Sync";
                Boolean root;
                boolean ro;
                RateLimiter limiter;
                boolean socket;
            };
            object(in, "", (name, v) -> {
                switch (name) {
                    case "drive_id" -> f.id = v.string(name);
                    case "path_on_host" -> f.path = v.string(name);
                    case "is_root_device" -> f.root = v.bool(name);
                    case "partuuid" -> f.partuuid = v.optionalString(name);
                    case "is_read_only" -> f.ro = v.token() != com.fasterxml.jackson.core.JsonToken.VALUE_NULL && v.bool(name);
                    case "cache_type" -> f.cache = v.string(name);
                    case "io_engine" -> f.engine = v.string(name);
                    case "rate_limiter" -> f.limiter = nullOr(v, () -> RateLimiter.read(v, name));
                    case "socket" -> {
                        v.optionalString(name);
                        f.socket = true;
                    }
                    default -> {
                        return false;
                    }
                }
                return true;
            });
            required(f.id, "drive_id");
            required(f.root, "is_root_device");
            if (f.socket) {
                throw ApiException.badRequest("field 'socket': vhost-user block devices are not supported by hyper-gen");
            }
            required(f.path, "path_on_host");
            if (!f.cache.equals("Unsafe") && !f.cache.equals("Writeback")) {
                throw ApiException.badRequest("field 'cache_type' must be Unsafe or Writeback, not " + f.cache);
            }
            if (!f.engine.equals("Sync") && !f.engine.equals("Async")) {
                throw ApiException.badRequest("field 'io_engine' must be Sync or Async, not " + f.engine);
            }
            return new Drive(f.id, f.path, f.root, f.partuuid, f.ro, f.cache, f.engine, f.limiter);
        }

        Drive withPath(String path) {
            return new Drive(driveId, path, isRootDevice, partuuid, isReadOnly, cacheType, ioEngine, rateLimiter);
        }

        Drive withRateLimiter(RateLimiter r) {
            return new Drive(driveId, pathOnHost, isRootDevice, partuuid, isReadOnly, cacheType, ioEngine, r);
        }

        void write(JsonGenerator g) throws IOException {
            g.writeStartObject();
            g.writeStringField("drive_id", driveId);
            g.writeStringField("path_on_host", pathOnHost);
            g.writeBooleanField("is_root_device", isRootDevice);
            nullable(g, "partuuid", partuuid);
            g.writeBooleanField("is_read_only", isReadOnly);
            g.writeStringField("cache_type", cacheType);
            g.writeStringField("io_engine", ioEngine);
            RateLimiter.write(g, "rate_limiter", rateLimiter);
            g.writeEndObject();
        }
    }

    /** PATCH /drives/{id}: a new backing file and/or rate limiter for a drive of a started microVM. */
    record PartialDrive(String driveId, String pathOnHost, RateLimiter rateLimiter) {
        static PartialDrive read(JsonIn in) throws IOException, ApiException {
            var f = new Object() {
                String id, path;
                RateLimiter limiter;
            };
            object(in, "", (name, v) -> {
                switch (name) {
                    case "drive_id" -> f.id = v.string(name);
                    case "path_on_host" -> f.path = v.optionalString(name);
                    case "rate_limiter" -> f.limiter = nullOr(v, () -> RateLimiter.read(v, name));
                    default -> {
                        return false;
                    }
                }
                return true;
            });
            return new PartialDrive(required(f.id, "drive_id"), f.path, f.limiter);
        }
    }

    /** A network interface on a TAP the caller made. */
    record NetIface(String ifaceId, String hostDevName, String guestMac, Integer mtu, RateLimiter rx, RateLimiter tx) {
        static NetIface read(JsonIn in) throws IOException, ApiException {
            var f = new Object() {
                String id, dev, mac;
                Integer mtu;
                RateLimiter rx, tx;
            };
            object(in, "", (name, v) -> {
                switch (name) {
                    case "iface_id" -> f.id = v.string(name);
                    case "host_dev_name" -> f.dev = v.string(name);
                    case "guest_mac" -> f.mac = v.optionalString(name);
                    case "mtu" -> f.mtu = nullOr(v, () -> v.smallInteger(name));
                    case "rx_rate_limiter" -> f.rx = nullOr(v, () -> RateLimiter.read(v, name));
                    case "tx_rate_limiter" -> f.tx = nullOr(v, () -> RateLimiter.read(v, name));
                    default -> {
                        return false;
                    }
                }
                return true;
            });
            if (f.mtu != null) {
                throw ApiException.badRequest("field 'mtu': hyper-gen's network card does not advertise an MTU yet; leave it out");
            }
            return new NetIface(required(f.id, "iface_id"), required(f.dev, "host_dev_name"), f.mac, null, f.rx, f.tx);
        }

        NetIface withLimiters(RateLimiter newRx, RateLimiter newTx) {
            return new NetIface(ifaceId, hostDevName, guestMac, mtu, newRx != null ? newRx : rx, newTx != null ? newTx : tx);
        }

        void write(JsonGenerator g) throws IOException {
            g.writeStartObject();
            g.writeStringField("iface_id", ifaceId);
            g.writeStringField("host_dev_name", hostDevName);
            nullable(g, "guest_mac", guestMac);
            RateLimiter.write(g, "rx_rate_limiter", rx);
            RateLimiter.write(g, "tx_rate_limiter", tx);
            g.writeEndObject();
        }
    }

    /** PATCH /network-interfaces/{id}: new rate limiters for an interface of a started microVM. */
    record PartialNetIface(String ifaceId, RateLimiter rx, RateLimiter tx) {
        static PartialNetIface read(JsonIn in) throws IOException, ApiException {
            var f = new Object() {
                String id;
                RateLimiter rx, tx;
            };
            object(in, "", (name, v) -> {
                switch (name) {
                    case "iface_id" -> f.id = v.string(name);
                    case "rx_rate_limiter" -> f.rx = nullOr(v, () -> RateLimiter.read(v, name));
                    case "tx_rate_limiter" -> f.tx = nullOr(v, () -> RateLimiter.read(v, name));
                    default -> {
                        return false;
                    }
                }
                return true;
            });
            return new PartialNetIface(required(f.id, "iface_id"), f.rx, f.tx);
        }
    }

    record LoggerConfig(String logPath, String level, boolean showLevel, boolean showLogOrigin, String module) {
        static LoggerConfig read(JsonIn in) throws IOException, ApiException {
            var f = new Object() {
                String path, level = "Info", module;
                boolean showLevel, showOrigin;
            };
            object(in, "", (name, v) -> {
                switch (name) {
                    case "log_path" -> f.path = v.optionalString(name);
                    case "level" -> f.level = v.string(name);
                    case "show_level" -> f.showLevel = v.bool(name);
                    case "show_log_origin" -> f.showOrigin = v.bool(name);
                    case "module" -> f.module = v.optionalString(name);
                    default -> {
                        return false;
                    }
                }
                return true;
            });
            LogLevel.parse(f.level);
            return new LoggerConfig(f.path, f.level, f.showLevel, f.showOrigin, f.module);
        }

        void write(JsonGenerator g) throws IOException {
            g.writeStartObject();
            nullable(g, "log_path", logPath);
            g.writeStringField("level", level);
            g.writeBooleanField("show_level", showLevel);
            g.writeBooleanField("show_log_origin", showLogOrigin);
            nullable(g, "module", module);
            g.writeEndObject();
        }
    }

    record MetricsConfig(String metricsPath, boolean emitId, Map<String, String> properties) {
        MetricsConfig {
            properties = Map.copyOf(properties);
        }

        static MetricsConfig read(JsonIn in) throws IOException, ApiException {
            var f = new Object() {
                String path;
                boolean emitId;
                Map<String, String> properties = new LinkedHashMap<>();
            };
            object(in, "", (name, v) -> {
                switch (name) {
                    case "metrics_path" -> f.path = v.string(name);
                    case "emit_id" -> f.emitId = v.bool(name);
                    case "properties" -> object(v, name, (key, value) -> {
                        f.properties.put(key, value.string(JsonIn.join(name, key)));
                        return true;
                    });
                    default -> {
                        return false;
                    }
                }
                return true;
            });
            return new MetricsConfig(required(f.path, "metrics_path"), f.emitId, f.properties);
        }

        void write(JsonGenerator g) throws IOException {
            g.writeStartObject();
            g.writeStringField("metrics_path", metricsPath);
            g.writeBooleanField("emit_id", emitId);
            if (!properties.isEmpty()) {
                g.writeObjectFieldStart("properties");
                for (Map.Entry<String, String> e : properties.entrySet()) {
                    g.writeStringField(e.getKey(), e.getValue());
                }
                g.writeEndObject();
            }
            g.writeEndObject();
        }
    }

    /**
     * The body of PUT /vsock: Firecracker's hybrid vsock on a Unix socket at {@code udsPath}. Every hyper-gen
     * guest has CID 3 whatever {@code guestCid} says (at least 3, as Firecracker wants): its host side is the
     * socket, never AF_VSOCK, so the number is the guest's only.
     */
    record Vsock(String vsockId, long guestCid, String udsPath) {
        static Vsock read(JsonIn in) throws IOException, ApiException {
            var f = new Object() {
                String id, path;
                Long cid;
            };
            object(in, "", (name, v) -> {
                switch (name) {
                    case "vsock_id" -> f.id = v.optionalString(name);
                    case "guest_cid" -> f.cid = v.integer(name);
                    case "uds_path" -> f.path = v.string(name);
                    default -> {
                        return false;
                    }
                }
                return true;
            });
            required(f.cid, "guest_cid");
            required(f.path, "uds_path");
            if (f.cid < 3 || f.cid > 0xffff_ffffL) {
                throw ApiException.badRequest("Invalid guest CID " + f.cid + ": a guest's CID is 3 or more");
            }
            if (f.path.isEmpty() || f.path.indexOf('\0') >= 0) {
                throw ApiException.badRequest("field 'uds_path' is not a path");
            }
            return new Vsock(f.id, f.cid, f.path);
        }

        void write(JsonGenerator g) throws IOException {
            g.writeStartObject();
            if (vsockId != null) {
                g.writeStringField("vsock_id", vsockId);
            }
            g.writeNumberField("guest_cid", guestCid);
            g.writeStringField("uds_path", udsPath);
            g.writeEndObject();
        }
    }

    /** The entropy device: every hyper-gen guest has a virtio-rng on the host's /dev/urandom already. */
    record Entropy(RateLimiter rateLimiter) {
        static Entropy read(JsonIn in) throws IOException, ApiException {
            var f = new Object() {
                RateLimiter limiter;
            };
            object(in, "", (name, v) -> {
                if (!name.equals("rate_limiter")) {
                    return false;
                }
                f.limiter = nullOr(v, () -> RateLimiter.read(v, name));
                return true;
            });
            return new Entropy(f.limiter);
        }

        void write(JsonGenerator g) throws IOException {
            g.writeStartObject();
            RateLimiter.write(g, "rate_limiter", rateLimiter);
            g.writeEndObject();
        }
    }

    /** The body of PUT /actions. */
    sealed interface Action {
        record InstanceStart() implements Action {}

        record SendCtrlAltDel() implements Action {}

        record FlushMetrics() implements Action {}

        static Action read(JsonIn in) throws IOException, ApiException {
            String type = in.onlyField("action_type", null, v -> v.string("action_type"));
            return switch (required(type, "action_type")) {
                case "InstanceStart" -> new InstanceStart();
                case "SendCtrlAltDel" -> new SendCtrlAltDel();
                case "FlushMetrics" -> new FlushMetrics();
                default -> throw ApiException.badRequest("unknown variant `" + type
                        + "`, expected one of `FlushMetrics`, `InstanceStart`, `SendCtrlAltDel`");
            };
        }
    }

    /** The body of PATCH /vm. */
    record VmStateChange(boolean pause) {
        static VmStateChange read(JsonIn in) throws IOException, ApiException {
            String state = required(in.onlyField("state", null, v -> v.string("state")), "state");
            return switch (state) {
                case "Paused" -> new VmStateChange(true);
                case "Resumed" -> new VmStateChange(false);
                default -> throw ApiException.badRequest("unknown variant `" + state + "`, expected `Paused` or `Resumed`");
            };
        }
    }

    record SnapshotCreate(String snapshotPath, String memFilePath, String snapshotType) {
        static SnapshotCreate read(JsonIn in) throws IOException, ApiException {
            var f = new Object() {
                String snap, mem, type = "Full";
            };
            object(in, "", (name, v) -> {
                switch (name) {
                    case "snapshot_path" -> f.snap = v.string(name);
                    case "mem_file_path" -> f.mem = v.string(name);
                    case "snapshot_type" -> f.type = v.string(name);
                    case "version" -> v.string(name); // older clients send it; Firecracker ignores it too
                    default -> {
                        return false;
                    }
                }
                return true;
            });
            return new SnapshotCreate(required(f.snap, "snapshot_path"), required(f.mem, "mem_file_path"), f.type);
        }
    }

    /** PUT /snapshot/load; {@code memPath} from mem_file_path or mem_backend's File path. */
    record SnapshotLoad(String snapshotPath, String memPath, boolean resume, List<String> overriddenInterfaces) {
        static SnapshotLoad read(JsonIn in) throws IOException, ApiException {
            var f = new Object() {
                String snap, memFile, backendType, backendPath;
                boolean resume, backendGiven;
                List<String> overrides = new ArrayList<>();
            };
            object(in, "", (name, v) -> {
                switch (name) {
                    case "snapshot_path" -> f.snap = v.string(name);
                    case "mem_file_path" -> f.memFile = v.optionalString(name);
                    case "mem_backend" -> {
                        f.backendGiven = true;
                        object(v, name, (n, b) -> {
                            switch (n) {
                                case "backend_type" -> f.backendType = b.string("mem_backend.backend_type");
                                case "backend_path" -> f.backendPath = b.string("mem_backend.backend_path");
                                default -> {
                                    return false;
                                }
                            }
                            return true;
                        });
                    }
                    case "resume_vm" -> f.resume = v.bool(name);
                    case "enable_diff_snapshots", "track_dirty_pages", "clock_realtime" -> v.bool(name);
                    case "huge_pages" -> v.string(name);
                    case "network_overrides" -> f.overrides.addAll(v.array(name, 16, e -> {
                        var o = new Object() {
                            String id;
                        };
                        object(e, name + "[]", (n, x) -> {
                            switch (n) {
                                case "iface_id" -> o.id = x.string(n);
                                case "host_dev_name" -> x.string(n);
                                default -> {
                                    return false;
                                }
                            }
                            return true;
                        });
                        return required(o.id, name + "[].iface_id");
                    }));
                    case "vsock_override" -> throw ApiException.badRequest("field 'vsock_override': hyper-gen has no vsock "
                            + "device behind this API yet");
                    default -> {
                        return false;
                    }
                }
                return true;
            });
            required(f.snap, "snapshot_path");
            if (f.backendGiven == (f.memFile != null)) {
                throw ApiException.badRequest("give exactly one of mem_file_path and mem_backend");
            }
            String mem = f.memFile;
            if (f.backendGiven) {
                required(f.backendType, "mem_backend.backend_type");
                mem = required(f.backendPath, "mem_backend.backend_path");
                if (!f.backendType.equals("File")) {
                    throw ApiException.badRequest("field 'mem_backend.backend_type': hyper-gen loads memory from a File "
                            + "only, not " + f.backendType);
                }
            }
            return new SnapshotLoad(f.snap, mem, f.resume, f.overrides);
        }
    }
}
