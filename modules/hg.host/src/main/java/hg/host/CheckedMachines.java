package hg.host;

import hg.host.HostException.Kind;
import hg.vmm.VmConfig;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The host's checks in front of any {@link Machines}: the VM's state for pause, resume, snapshot and clone, a
 * disk or snapshot another VM holds, the limits of a request. Every front end (the shell, the API) goes
 * through one of these, so each refusal is the same line with the same {@link Kind} wherever it is asked;
 * the VMM's own locks and checks stay the final word behind them.
 */
public final class CheckedMachines implements Machines {
    /** The most clones one request makes, as hg.vmm allows. */
    public static final int MAX_CLONES = hg.vmm.VmManager.MAX_CLONES;

    private final Machines inner;
    private final ShareRule shares;

    public CheckedMachines(Machines inner) {
        this(inner, new ShareRule.Anywhere());
    }

    /** @param shares which host directories may be shared with guests */
    public CheckedMachines(Machines inner, ShareRule shares) {
        this.inner = inner;
        this.shares = shares;
    }

    /** A disk and the VM that holds it. */
    public record Holder(Info vm, AttachedDisk disk) {}

    /** The VM holding {@code file} (compared by real path), if any. */
    public static Optional<Holder> holder(List<Info> vms, Path file) {
        Path real = realPath(file);
        for (Info vm : vms) {
            for (AttachedDisk held : vm.disks()) {
                if (realPath(held.path()).equals(real)) {
                    return Optional.of(new Holder(vm, held));
                }
            }
        }
        return Optional.empty();
    }

    /** "vm_list shows ids 1, 2" or that there are none: the end of every line about a vm id that is not there. */
    public static String knownVms(List<Info> vms) {
        if (vms.isEmpty()) {
            return "there are no VMs; vm_create makes one";
        }
        return "vm_list shows " + (vms.size() == 1 ? "id " : "ids ")
                + vms.stream().map(vm -> String.valueOf(vm.id())).collect(Collectors.joining(", "));
    }

    @Override
    public int create(Spec spec) throws HostException {
        if (spec.memoryBytes() < MIN_MEMORY) {
            throw new HostException(Sizes.human(spec.memoryBytes()) + " of memory is too little for a Linux guest: give "
                    + "at least " + MIN_MEMORY / Sizes.MIB + "M");
        }
        int max = maxVcpus();
        if (spec.cpus() < 1 || spec.cpus() > max) {
            throw new HostException(spec.cpus() + " vCPUs is out of range: this host runs 1 to " + max + " vCPUs per VM");
        }
        if (!spec.net() && !spec.vhost()) {
            throw new HostException("vhost is about the network card, and this VM gets none");
        }
        List<Info> vms = inner.list();
        if (spec.image() != null) {
            refuseHeld(vms, new Disk(spec.image(), spec.readOnly()));
        }
        for (Disk d : spec.disks()) {
            refuseHeld(vms, d);
        }
        for (VmConfig.Share s : spec.shares()) {
            checkShare(s.dir());
        }
        return inner.create(spec);
    }

    /**
     * A shared directory: an existing directory that the rule allows (beneath a root: strictly beneath it, judged
     * by where it really is).
     */
    private void checkShare(Path dir) throws HostException {
        if (shares instanceof ShareRule.Nowhere n) {
            throw new HostException("--share " + dir + ": nothing may be shared here: " + n.hint());
        }
        Path real;
        try {
            real = dir.toRealPath();
        } catch (IOException e) {
            throw new HostException("--share " + dir + ": no such directory");
        }
        if (!Files.isDirectory(real)) {
            throw new HostException("--share " + dir + ": not a directory");
        }
        if (shares instanceof ShareRule.Beneath b) {
            Path root;
            try {
                root = b.root().toRealPath();
            } catch (IOException e) {
                throw new HostException("--share " + dir + ": the share root " + b.root() + " is missing, so nothing "
                        + "may be shared");
            }
            if (!real.startsWith(root) || real.equals(root)) {
                throw new HostException("--share " + dir + ": only directories under " + b.root()
                        + " may be shared here (guest_share= on the kernel command line names it)");
            }
        }
    }

    private static void refuseHeld(List<Info> vms, Disk disk) throws HostException {
        refuseHeld(vms, disk, disk.path().getFileName().toString(), "attach it read-only");
    }

    /**
     * Refuses writing {@code disk} while a VM holds it (readers share; a writer among them is refused too, and by
     * the VMM's lock): one line naming it as {@code name}, ending in {@code readOnlyHint} where reading would do.
     */
    public static void refuseHeld(List<Info> vms, Disk disk, String name, String readOnlyHint) throws HostException {
        if (disk.readOnly()) {
            return;
        }
        Optional<Holder> h = holder(vms, disk.path());
        if (h.isPresent()) {
            int id = h.get().vm().id();
            boolean ro = h.get().disk().readOnly();
            throw new HostException(Kind.CONFLICT, name + " is in use " + (ro ? "read-only" : "read-write")
                    + " by vm " + id + ": vm_destroy " + id + " first" + (ro ? "" : ", or " + readOnlyHint));
        }
    }

    @Override
    public void pause(int id) throws HostException {
        switch (state(id)) {
            case State.Paused p -> throw new HostException(Kind.CONFLICT, "vm " + id + " is paused already: vm_resume "
                    + id + " lets it go on");
            case State.Stopped s -> throw new HostException(Kind.CONFLICT, "vm " + id + " has stopped (" + s.reason()
                    + "): there is nothing to pause");
            case State.Running r -> inner.pause(id);
        }
    }

    @Override
    public void resume(int id) throws HostException {
        switch (state(id)) {
            case State.Running r -> throw new HostException(Kind.CONFLICT, "vm " + id + " is not paused: it is running");
            case State.Stopped s -> throw new HostException(Kind.CONFLICT, "vm " + id + " has stopped (" + s.reason()
                    + "): it cannot go on; vm_destroy " + id + " frees it");
            case State.Paused p -> inner.resume(id);
        }
    }

    @Override
    public Snapshot snapshot(int id, Path dir, boolean stop) throws HostException {
        if (state(id) instanceof State.Stopped s) {
            throw new HostException(Kind.CONFLICT, "vm " + id + " has stopped (" + s.reason() + "): there is nothing to snapshot");
        }
        if (Files.exists(dir) && !Files.isDirectory(dir)) {
            throw new HostException(dir + " is a file, not a directory: give a directory for the snapshot");
        }
        return inner.snapshot(id, dir, stop);
    }

    @Override
    public int restore(Path dir, boolean paused) throws HostException {
        if (!Files.isDirectory(dir)) {
            throw new HostException(Kind.NOT_FOUND, "no snapshot in " + dir + ": " + (Files.exists(dir)
                    ? "it is not a directory" : "it does not exist") + " (vm_snapshot <vm id> <dir> writes one)");
        }
        Path real = realPath(dir);
        for (Info vm : inner.list()) {
            for (AttachedDisk d : vm.disks()) {
                if (!d.readOnly() && real.equals(realPath(d.path()).getParent())) {
                    throw new HostException(Kind.CONFLICT, "snapshot " + dir + " is in use: vm " + vm.id()
                            + " runs on its disk copy " + d.path().getFileName() + "; vm_destroy " + vm.id()
                            + " first, or vm_clone " + vm.id() + " for more VMs like it");
                }
            }
        }
        return inner.restore(dir, paused);
    }

    @Override
    public List<Integer> clone(int id, int count) throws HostException {
        if (count < 1 || count > MAX_CLONES) {
            throw new HostException("count " + count + " is out of range: vm_clone makes 1 to " + MAX_CLONES
                    + " clones at once");
        }
        if (state(id) instanceof State.Stopped s) {
            throw new HostException(Kind.CONFLICT, "vm " + id + " has stopped (" + s.reason() + "): there is nothing to clone");
        }
        return inner.clone(id, count);
    }

    @Override
    public Console attach(int id, OutputStream sink) throws HostException {
        state(id);
        return inner.attach(id, sink);
    }

    @Override
    public void destroy(int id) throws HostException {
        state(id);
        inner.destroy(id);
    }

    /** The state of VM {@code id}, or the line saying there is no such VM. */
    public State state(int id) throws HostException {
        List<Info> vms = inner.list();
        return vms.stream().filter(vm -> vm.id() == id).findFirst()
                .orElseThrow(() -> new HostException(Kind.NOT_FOUND, "no vm with id " + id + " (" + knownVms(vms) + ")"))
                .state();
    }

    @Override
    public List<Info> list() {
        return inner.list();
    }

    @Override
    public int maxVcpus() {
        return inner.maxVcpus();
    }

    @Override
    public List<String> notices() {
        return inner.notices();
    }

    @Override
    public String memoryRule() {
        return inner.memoryRule();
    }

    @Override
    public String networkReach() {
        return inner.networkReach();
    }

    @Override
    public void close() {
        inner.close();
    }

    static Path realPath(Path p) {
        try {
            return p.toRealPath();
        } catch (IOException e) {
            return p.toAbsolutePath().normalize();
        }
    }
}
