package hg.api.internal;

import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The bodies clients send, as records: read by the server (strictly) and written by {@code ApiClient}, so
 * both sides agree on every field name. Absent optional fields are null; the server picks the defaults.
 */
public final class Requests {
    /** More data disks than a VM can have (hg.vmm refuses past its device limit with its own line). */
    static final int MAX_DISKS = 32;

    private Requests() {}

    /** One data disk: an image of the catalog by id or file name, or a file by absolute path (the hosted shell's --disk). */
    public record DiskRequest(String image, String path, boolean readOnly) {
        static DiskRequest read(JsonIn in, String where) throws IOException, ApiException {
            String[] image = new String[1];
            String[] path = new String[1];
            boolean[] ro = new boolean[1];
            in.object(where, name -> {
                switch (name) {
                    case "image" -> image[0] = in.idOrName(JsonIn.join(where, name));
                    case "path" -> path[0] = in.string(JsonIn.join(where, name));
                    case "read_only" -> ro[0] = in.bool(JsonIn.join(where, name));
                    default -> {
                        return false;
                    }
                }
                return true;
            });
            if ((image[0] == null) == (path[0] == null)) {
                throw ApiException.badRequest(where + " needs one of 'image' (an id or file name) or 'path' (a file)");
            }
            return new DiskRequest(image[0], path[0], ro[0]);
        }

        void write(JsonGenerator g) throws IOException {
            g.writeStartObject();
            if (image != null) {
                g.writeStringField("image", image);
            } else {
                g.writeStringField("path", path);
            }
            g.writeBooleanField("read_only", readOnly);
            g.writeEndObject();
        }
    }

    /** Shares one VM may have: each is a device, and a VM has a few dozen at most. */
    static final int MAX_SHARES = 8;

    /** One of POST /vms's shares: a host directory by absolute path, its tag (default: its name), read-only or not. */
    public record ShareRequest(String dir, String tag, boolean readOnly) {
        static ShareRequest read(JsonIn in, String where) throws IOException, ApiException {
            var b = new Object() {
                String dir, tag;
                boolean readOnly;
            };
            in.object(where, name -> {
                switch (name) {
                    case "dir" -> b.dir = in.string(name);
                    case "tag" -> b.tag = in.string(name);
                    case "read_only" -> b.readOnly = in.bool(name);
                    default -> {
                        return false;
                    }
                }
                return true;
            });
            if (b.dir == null) {
                throw JsonIn.missing(where + ".dir");
            }
            return new ShareRequest(b.dir, b.tag, b.readOnly);
        }

        void write(JsonGenerator g) throws IOException {
            g.writeStartObject();
            g.writeStringField("dir", dir);
            if (tag != null) {
                g.writeStringField("tag", tag);
            }
            g.writeBooleanField("read_only", readOnly);
            g.writeEndObject();
        }
    }

    /** POST /vms. */
    public record Create(String kernel, String image, Long memMib, String mem, Integer cpus, String cmdline,
                         boolean readOnly, List<DiskRequest> disks, Boolean net, Boolean vhost, String vsock,
                         List<ShareRequest> shares, boolean hugepages) {
        public Create {
            disks = List.copyOf(disks);
            shares = List.copyOf(shares);
        }

        public Create(String kernel, String image, Long memMib, String mem, Integer cpus, String cmdline,
                      boolean readOnly, List<DiskRequest> disks, Boolean net, Boolean vhost, String vsock,
                      List<ShareRequest> shares) {
            this(kernel, image, memMib, mem, cpus, cmdline, readOnly, disks, net, vhost, vsock, shares, false);
        }

        public Create(String kernel, String image, Long memMib, String mem, Integer cpus, String cmdline,
                      boolean readOnly, List<DiskRequest> disks, Boolean net, Boolean vhost) {
            this(kernel, image, memMib, mem, cpus, cmdline, readOnly, disks, net, vhost, null, List.of());
        }

        public static Create read(JsonIn in) throws IOException, ApiException {
            var b = new Object() {
                String kernel, image, mem, cmdline;
                Long memMib;
                Integer cpus;
                boolean readOnly;
                List<DiskRequest> disks = List.of();
                Boolean net, vhost;
                String vsock;
                List<ShareRequest> shares = List.of();
                boolean hugepages;
            };
            in.object("", name -> {
                switch (name) {
                    case "kernel" -> b.kernel = in.idOrName(name);
                    case "image" -> b.image = in.idOrName(name);
                    case "mem_mib" -> b.memMib = in.integer(name);
                    case "mem" -> b.mem = in.string(name);
                    case "cpus" -> b.cpus = in.smallInteger(name);
                    case "cmdline" -> b.cmdline = in.string(name);
                    case "read_only" -> b.readOnly = in.bool(name);
                    case "disks" -> {
                        List<DiskRequest> disks = new ArrayList<>();
                        in.array(name, MAX_DISKS, e -> {
                            DiskRequest d = DiskRequest.read(e, "disks[" + disks.size() + "]");
                            disks.add(d);
                            return d;
                        });
                        b.disks = disks;
                    }
                    case "net" -> b.net = in.bool(name);
                    case "vhost" -> b.vhost = in.bool(name);
                    case "vsock" -> b.vsock = in.string(name);
                    case "hugepages" -> b.hugepages = in.bool(name);
                    case "shares" -> {
                        List<ShareRequest> shares = new ArrayList<>();
                        in.array(name, MAX_SHARES, e -> {
                            ShareRequest s = ShareRequest.read(e, "shares[" + shares.size() + "]");
                            shares.add(s);
                            return s;
                        });
                        b.shares = shares;
                    }
                    default -> {
                        return false;
                    }
                }
                return true;
            });
            if (b.kernel == null) {
                throw JsonIn.missing("kernel");
            }
            if (b.image == null) {
                throw JsonIn.missing("image");
            }
            if (b.mem != null && b.memMib != null) {
                throw ApiException.badRequest("give 'mem' or 'mem_mib', not both");
            }
            return new Create(b.kernel, b.image, b.memMib, b.mem, b.cpus, b.cmdline, b.readOnly, b.disks, b.net, b.vhost,
                    b.vsock, b.shares, b.hugepages);
        }

        public void write(JsonGenerator g) throws IOException {
            g.writeStartObject();
            g.writeStringField("kernel", kernel);
            g.writeStringField("image", image);
            if (memMib != null) {
                g.writeNumberField("mem_mib", memMib);
            }
            if (mem != null) {
                g.writeStringField("mem", mem);
            }
            if (cpus != null) {
                g.writeNumberField("cpus", cpus);
            }
            if (cmdline != null) {
                g.writeStringField("cmdline", cmdline);
            }
            g.writeBooleanField("read_only", readOnly);
            g.writeArrayFieldStart("disks");
            for (DiskRequest d : disks) {
                d.write(g);
            }
            g.writeEndArray();
            if (net != null) {
                g.writeBooleanField("net", net);
            }
            if (vhost != null) {
                g.writeBooleanField("vhost", vhost);
            }
            if (vsock != null) {
                g.writeStringField("vsock", vsock);
            }
            if (!shares.isEmpty()) {
                g.writeArrayFieldStart("shares");
                for (ShareRequest s : shares) {
                    s.write(g);
                }
                g.writeEndArray();
            }
            if (hugepages) {
                g.writeBooleanField("hugepages", true);
            }
            g.writeEndObject();
        }
    }

    /** PUT /vms/{id}/state. */
    public record SetState(boolean paused) {
        public static SetState read(JsonIn in) throws IOException, ApiException {
            String state = in.onlyField("state", null, v -> v.string("state"));
            if (state == null) {
                throw JsonIn.missing("state");
            }
            return switch (state) {
                case "paused" -> new SetState(true);
                case "running" -> new SetState(false);
                default -> throw ApiException.badRequest("field 'state' must be \"paused\" or \"running\", not \""
                        + state + "\"");
            };
        }

        public void write(JsonGenerator g) throws IOException {
            g.writeStartObject();
            g.writeStringField("state", paused ? "paused" : "running");
            g.writeEndObject();
        }
    }

    /**
     * PUT /vms/{id}/snapshot ({@code flag} is "stop") and POST /vms/restore ({@code flag} is "paused"): a
     * directory and one switch.
     */
    public record DirAndFlag(String dir, boolean flag) {
        public static DirAndFlag read(JsonIn in, String flagName) throws IOException, ApiException {
            String[] dir = new String[1];
            boolean[] flag = new boolean[1];
            in.object("", name -> {
                if (name.equals("dir")) {
                    dir[0] = in.string(name);
                } else if (name.equals(flagName)) {
                    flag[0] = in.bool(name);
                } else {
                    return false;
                }
                return true;
            });
            if (dir[0] == null) {
                throw JsonIn.missing("dir");
            }
            return new DirAndFlag(dir[0], flag[0]);
        }

        public void write(JsonGenerator g, String flagName) throws IOException {
            g.writeStartObject();
            g.writeStringField("dir", dir);
            g.writeBooleanField(flagName, flag);
            g.writeEndObject();
        }
    }

    /** POST /vms/{id}/clone. */
    public record Clone(int count) {
        public static Clone read(JsonIn in) throws IOException, ApiException {
            return new Clone(in.onlyField("count", 1, v -> v.smallInteger("count")));
        }

        public void write(JsonGenerator g) throws IOException {
            g.writeStartObject();
            g.writeNumberField("count", count);
            g.writeEndObject();
        }
    }

    /** POST /vms/{id}/exec: a command for the guest agent. */
    public record Exec(List<String> argv, Map<String, String> env, String cwd, String stdin, Long timeoutSeconds) {
        static final int MAX_ARGS = 4096;

        public Exec {
            argv = List.copyOf(argv);
            env = Map.copyOf(env);
        }

        public static Exec read(JsonIn in) throws IOException, ApiException {
            var b = new Object() {
                List<String> argv;
                Map<String, String> env = Map.of();
                String cwd = "", stdin;
                Long timeout;
            };
            in.object("", name -> {
                switch (name) {
                    case "argv" -> b.argv = in.array(name, MAX_ARGS, e -> e.string(name + "[]"));
                    case "env" -> {
                        Map<String, String> env = new java.util.LinkedHashMap<>();
                        in.object(name, key -> {
                            if (env.size() >= MAX_ARGS) {
                                throw ApiException.badRequest("field 'env' has more than " + MAX_ARGS + " variables");
                            }
                            env.put(key, in.string("env." + key));
                            return true;
                        });
                        b.env = env;
                    }
                    case "cwd" -> b.cwd = in.string(name);
                    case "stdin" -> b.stdin = in.string(name);
                    case "timeout_s" -> b.timeout = in.integer(name);
                    default -> {
                        return false;
                    }
                }
                return true;
            });
            if (b.argv == null || b.argv.isEmpty()) {
                throw b.argv == null ? JsonIn.missing("argv") : ApiException.badRequest("field 'argv' needs the command's name");
            }
            if (b.timeout != null && (b.timeout < 1 || b.timeout > 86_400)) {
                throw ApiException.badRequest("field 'timeout_s' takes whole seconds from 1 to 86400");
            }
            for (String k : b.env.keySet()) {
                if (k.isEmpty() || k.indexOf('=') >= 0) {
                    throw ApiException.badRequest("field 'env' has a variable named '" + k + "': names are not empty and have no '='");
                }
            }
            return new Exec(b.argv, b.env, b.cwd, b.stdin, b.timeout);
        }
    }
}
