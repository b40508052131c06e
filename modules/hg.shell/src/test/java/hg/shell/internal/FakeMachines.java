package hg.shell.internal;

import hg.host.HostException;
import hg.host.Machines;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** VMs held in memory, for the command tests only: records what the shell asked for. */
final class FakeMachines implements Machines {
    final Map<Integer, Info> vms = java.util.Collections.synchronizedMap(new LinkedHashMap<>());
    final List<Spec> created = new ArrayList<>();
    final List<String> inputs = java.util.Collections.synchronizedList(new ArrayList<>());
    String failCreateWith;
    String consoleHistory = "login: ";
    int nextId = 1;
    int maxVcpus = hg.vmm.VmConfig.MAX_VCPUS;
    String memoryRule = "no more than the host has";
    String networkReach = "";
    /** The net column of VMs made from here on. */
    String net = "-";
    boolean closed;

    @Override
    public int create(Spec spec) throws HostException {
        if (failCreateWith != null) {
            throw new HostException(failCreateWith);
        }
        int id = nextId++;
        created.add(spec);
        List<AttachedDisk> disks = new ArrayList<>();
        disks.add(new AttachedDisk("vda", spec.image(), spec.readOnly()));
        for (Disk d : spec.disks()) {
            disks.add(new AttachedDisk("vd" + (char) ('a' + disks.size()), d.path(), d.readOnly()));
        }
        vms.put(id, new Info(id, spec.kernel(), disks, spec.cpus(), spec.memoryBytes(), new State.Running(),
                Duration.ofSeconds(83), net, Counters.NONE, java.util.Optional.empty(), List.of(),
                spec.hugepages() ? "2M hugetlbfs" : ""));
        return id;
    }

    void stop(int id, String reason) {
        Info i = vms.get(id);
        vms.put(id, new Info(i.id(), i.kernel(), i.disks(), i.cpus(), i.memoryBytes(), new State.Stopped(reason),
                i.uptime(), i.net()));
    }

    @Override
    public int maxVcpus() {
        return maxVcpus;
    }

    @Override
    public String memoryRule() {
        return memoryRule;
    }

    @Override
    public String networkReach() {
        return networkReach;
    }

    @Override
    public List<Info> list() {
        return List.copyOf(vms.values());
    }

    @Override
    public Console attach(int id, OutputStream sink) throws HostException {
        if (!vms.containsKey(id)) {
            throw new HostException("no vm with id " + id);
        }
        try {
            sink.write(consoleHistory.getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new Console() {
            @Override
            public void input(byte[] bytes) {
                inputs.add(new String(bytes, StandardCharsets.UTF_8));
            }

            @Override
            public State state() {
                return vms.get(id).state();
            }

            @Override
            public void close() {}
        };
    }

    /** What vm_snapshot wrote, by directory: the VM as it was. */
    final Map<java.nio.file.Path, Info> snapshots = new LinkedHashMap<>();
    final List<String> calls = new ArrayList<>();

    private Info require(int id) throws HostException {
        Info i = vms.get(id);
        if (i == null) {
            throw new HostException("no vm with id " + id);
        }
        return i;
    }

    private void put(Info i, State state) {
        vms.put(i.id(), new Info(i.id(), i.kernel(), i.disks(), i.cpus(), i.memoryBytes(), state, i.uptime(), i.net()));
    }

    @Override
    public void pause(int id) throws HostException {
        calls.add("pause " + id);
        put(require(id), new State.Paused());
    }

    @Override
    public void resume(int id) throws HostException {
        calls.add("resume " + id);
        put(require(id), new State.Running());
    }

    @Override
    public Snapshot snapshot(int id, java.nio.file.Path dir, boolean stop) throws HostException {
        calls.add("snapshot " + id + " " + dir + (stop ? " stop" : ""));
        Info i = require(id);
        snapshots.put(dir, i);
        if (stop) {
            vms.remove(id);
        }
        return new Snapshot(dir, i.memoryBytes(), 12L << 20, 16L << 20, Duration.ofMillis(41));
    }

    @Override
    public int restore(java.nio.file.Path dir, boolean paused) throws HostException {
        calls.add("restore " + dir + (paused ? " paused" : ""));
        Info i = snapshots.get(dir);
        if (i == null) {
            throw new HostException("no snapshot in " + dir + ": it has no state file");
        }
        int id = nextId++;
        vms.put(id, new Info(id, i.kernel(), i.disks(), i.cpus(), i.memoryBytes(),
                paused ? new State.Paused() : new State.Running(), Duration.ZERO, i.net()));
        return id;
    }

    @Override
    public List<Integer> clone(int id, int count) throws HostException {
        calls.add("clone " + id + " " + count);
        Info i = require(id);
        List<Integer> ids = new ArrayList<>();
        for (int n = 0; n < count; n++) {
            int c = nextId++;
            vms.put(c, new Info(c, i.kernel(), i.disks(), i.cpus(), i.memoryBytes(), new State.Running(),
                    Duration.ZERO, i.net()));
            ids.add(c);
        }
        return ids;
    }

    @Override
    public void destroy(int id) throws HostException {
        if (vms.remove(id) == null) {
            throw new HostException("no vm with id " + id);
        }
    }

    @Override
    public void close() {
        closed = true;
        vms.clear();
    }
}
