package hg.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import hg.host.HostException.Kind;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckedMachinesTest {
    @TempDir
    Path tmp;

    /** VMs as a list says they are; every call that gets through is recorded. */
    private static final class Listed implements Machines {
        final List<Machines.Info> vms = new ArrayList<>();
        final List<String> calls = new ArrayList<>();

        void add(int id, Machines.State state, Machines.AttachedDisk... disks) {
            vms.add(new Machines.Info(id, Path.of("/k"), List.of(disks), 1, 64 << 20, state, Duration.ZERO, "-"));
        }

        @Override public int maxVcpus() { return 4; }
        @Override public String memoryRule() { return "rule"; }
        @Override public int create(Machines.Spec spec) { calls.add("create"); return 9; }
        @Override public List<Machines.Info> list() { return List.copyOf(vms); }
        @Override public Machines.Console attach(int id, OutputStream sink) { calls.add("attach " + id); return null; }
        @Override public void pause(int id) { calls.add("pause " + id); }
        @Override public void resume(int id) { calls.add("resume " + id); }
        @Override public Machines.Snapshot snapshot(int id, Path dir, boolean stop) { calls.add("snapshot " + id); return null; }
        @Override public int restore(Path dir, boolean paused) { calls.add("restore"); return 9; }
        @Override public List<Integer> clone(int id, int count) { calls.add("clone " + id); return List.of(); }
        @Override public void destroy(int id) { calls.add("destroy " + id); }
        @Override public void close() {}
    }

    private final Listed inner = new Listed();
    private final CheckedMachines checked = new CheckedMachines(inner);

    private static void refused(Kind kind, String line, Executable call) {
        HostException e = assertThrows(HostException.class, call::run);
        assertEquals(line, e.getMessage());
        assertEquals(kind, e.kind());
    }

    private interface Executable {
        void run() throws Exception;
    }

    @Test
    void aVmThatIsNotThereIsNotFoundForEveryOperation() {
        inner.add(1, new Machines.State.Running());
        inner.add(3, new Machines.State.Running());
        String line = "no vm with id 2 (vm_list shows ids 1, 3)";
        refused(Kind.NOT_FOUND, line, () -> checked.pause(2));
        refused(Kind.NOT_FOUND, line, () -> checked.resume(2));
        refused(Kind.NOT_FOUND, line, () -> checked.snapshot(2, tmp, false));
        refused(Kind.NOT_FOUND, line, () -> checked.clone(2, 1));
        refused(Kind.NOT_FOUND, line, () -> checked.destroy(2));
        refused(Kind.NOT_FOUND, line, () -> checked.attach(2, OutputStream.nullOutputStream()));
        assertEquals(List.of(), inner.calls);
    }

    @Test
    void statesThatCannotDoItAreConflicts() throws Exception {
        inner.add(1, new Machines.State.Paused());
        inner.add(2, new Machines.State.Running());
        inner.add(3, new Machines.State.Stopped("the guest rebooted (reset)"));
        refused(Kind.CONFLICT, "vm 1 is paused already: vm_resume 1 lets it go on", () -> checked.pause(1));
        refused(Kind.CONFLICT, "vm 2 is not paused: it is running", () -> checked.resume(2));
        refused(Kind.CONFLICT, "vm 3 has stopped (the guest rebooted (reset)): there is nothing to pause", () -> checked.pause(3));
        refused(Kind.CONFLICT, "vm 3 has stopped (the guest rebooted (reset)): it cannot go on; vm_destroy 3 frees it",
                () -> checked.resume(3));
        refused(Kind.CONFLICT, "vm 3 has stopped (the guest rebooted (reset)): there is nothing to snapshot",
                () -> checked.snapshot(3, tmp, false));
        refused(Kind.CONFLICT, "vm 3 has stopped (the guest rebooted (reset)): there is nothing to clone",
                () -> checked.clone(3, 1));
        assertEquals(List.of(), inner.calls);
        checked.resume(1);
        checked.pause(2);
        checked.clone(1, 64);
        checked.destroy(3);
        assertEquals(List.of("resume 1", "pause 2", "clone 1", "destroy 3"), inner.calls);
    }

    @Test
    void requestsOutsideTheLimitsAreInvalid() {
        inner.add(1, new Machines.State.Running());
        refused(Kind.INVALID, "count 65 is out of range: vm_clone makes 1 to 64 clones at once", () -> checked.clone(1, 65));
        refused(Kind.INVALID, "count 0 is out of range: vm_clone makes 1 to 64 clones at once", () -> checked.clone(1, 0));
        Path k = tmp.resolve("k");
        Path i = tmp.resolve("i");
        refused(Kind.INVALID, "8 MiB of memory is too little for a Linux guest: give at least 16M",
                () -> checked.create(new Machines.Spec(k, i, 8 << 20, 1, "", false)));
        refused(Kind.INVALID, "5 vCPUs is out of range: this host runs 1 to 4 vCPUs per VM",
                () -> checked.create(new Machines.Spec(k, i, 64 << 20, 5, "", false)));
        refused(Kind.INVALID, "0 vCPUs is out of range: this host runs 1 to 4 vCPUs per VM",
                () -> checked.create(new Machines.Spec(k, i, 64 << 20, 0, "", false)));
        assertEquals(List.of(), inner.calls);
    }

    @Test
    void aDiskAnotherVmWritesIsAConflictButReadersShare() throws Exception {
        Path image = Files.createFile(tmp.resolve("root.ext4"));
        Path other = Files.createFile(tmp.resolve("data.ext4"));
        inner.add(1, new Machines.State.Running(), new Machines.AttachedDisk("vda", image, false));
        inner.add(2, new Machines.State.Running(), new Machines.AttachedDisk("vda", other, true));
        refused(Kind.CONFLICT, "root.ext4 is in use read-write by vm 1: vm_destroy 1 first, or attach it read-only",
                () -> checked.create(new Machines.Spec(tmp, image, 64 << 20, 1, "", false)));
        refused(Kind.CONFLICT, "data.ext4 is in use read-only by vm 2: vm_destroy 2 first",
                () -> checked.create(new Machines.Spec(tmp, other, 64 << 20, 1, "", true, List.of(new Machines.Disk(other, false)),
                        false, true)));
        assertEquals(List.of(), inner.calls);
        assertEquals(9, checked.create(new Machines.Spec(tmp, other, 64 << 20, 1, "", true)));
    }

    @Test
    void aSnapshotMustBeADirectoryNobodyRunsOn() throws Exception {
        Path snap = Files.createDirectories(tmp.resolve("snap"));
        Path file = Files.createFile(tmp.resolve("file"));
        refused(Kind.NOT_FOUND, "no snapshot in " + tmp.resolve("none") + ": it does not exist (vm_snapshot <vm id> <dir> "
                + "writes one)", () -> checked.restore(tmp.resolve("none"), false));
        refused(Kind.NOT_FOUND, "no snapshot in " + file + ": it is not a directory (vm_snapshot <vm id> <dir> writes one)",
                () -> checked.restore(file, false));
        inner.add(4, new Machines.State.Running(), new Machines.AttachedDisk("vda", Files.createFile(snap.resolve("vda.img")), false));
        refused(Kind.CONFLICT, "snapshot " + snap + " is in use: vm 4 runs on its disk copy vda.img; vm_destroy 4 first, "
                + "or vm_clone 4 for more VMs like it", () -> checked.restore(snap, false));
        refused(Kind.INVALID, file + " is a file, not a directory: give a directory for the snapshot",
                () -> checked.snapshot(4, file, false));
        assertEquals(List.of(), inner.calls);
    }

    private static Machines.Spec sharing(Path dir) {
        return new Machines.Spec(Path.of("/k"), null, 64 << 20, 1, "", false, List.of(), false, true, java.util.Optional.empty(),
                java.util.Optional.empty(), java.util.Optional.empty(), List.of(new hg.vmm.VmConfig.Share(dir, "s", false)));
    }

    @Test
    void sharesAreDirectoriesTheRuleAllowsWhereTheyReallyAre() throws Exception {
        Path root = Files.createDirectories(tmp.resolve("shares"));
        Path inside = Files.createDirectories(root.resolve("src"));
        Path outside = Files.createDirectories(tmp.resolve("etc"));
        Path sneaky = Files.createSymbolicLink(root.resolve("sneaky"), outside);
        CheckedMachines beneath = new CheckedMachines(inner, new ShareRule.Beneath(root));
        assertEquals(9, beneath.create(sharing(inside)));
        refused(Kind.INVALID, "--share " + outside + ": only directories under " + root + " may be shared here "
                + "(guest_share= on the kernel command line names it)", () -> beneath.create(sharing(outside)));
        refused(Kind.INVALID, "--share " + sneaky + ": only directories under " + root + " may be shared here "
                + "(guest_share= on the kernel command line names it)", () -> beneath.create(sharing(sneaky)));
        refused(Kind.INVALID, "--share " + root + ": only directories under " + root + " may be shared here "
                + "(guest_share= on the kernel command line names it)", () -> beneath.create(sharing(root)));
        refused(Kind.INVALID, "--share " + root.resolve("none") + ": no such directory",
                () -> beneath.create(sharing(root.resolve("none"))));
        Path file = Files.createFile(root.resolve("file"));
        refused(Kind.INVALID, "--share " + file + ": not a directory", () -> beneath.create(sharing(file)));
        CheckedMachines none = new CheckedMachines(inner, new ShareRule.Nowhere("boot with guest_share=DIR"));
        refused(Kind.INVALID, "--share " + inside + ": nothing may be shared here: boot with guest_share=DIR",
                () -> none.create(sharing(inside)));
        assertEquals(List.of("create"), inner.calls);
    }
}
