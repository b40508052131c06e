package hg.shell.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hg.host.CatalogEntry;
import hg.host.Machines;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CommandsTest {
    private final FakeCatalog catalog = FakeCatalog.standard();
    private final FakeMachines machines = new FakeMachines();
    private final List<Integer> consoleRuns = new ArrayList<>();
    private final Commands.ConsoleFrontEnd console = (id, m, out) -> {
        consoleRuns.add(id);
        out.println("attached " + id);
    };
    private Commands commands = new Commands(catalog, machines, null);
    private Commands.Outcome outcome;

    private String run(String line) {
        StringWriter s = new StringWriter();
        outcome = commands.execute(line, new PrintWriter(s), console);
        return s.toString();
    }

    /** Runs a line that must fail; returns its one error line. */
    private String fails(String line) {
        String out = run(line);
        assertEquals(Commands.Outcome.FAILED, outcome, line + " -> " + out);
        assertEquals(1, out.lines().count(), "one line: " + out);
        assertTrue(out.startsWith("error: "), out);
        assertFalse(out.contains("Exception"), out);
        return out.strip();
    }

    @Test
    void emptyAndBlankLinesDoNothing() {
        assertEquals("", run(""));
        assertEquals("", run("   \t "));
        assertEquals(Commands.Outcome.OK, outcome);
    }

    @Test
    void unknownCommandNamesTheCommandsAndSuggestsTheNearOne() {
        String e = fails("vm_creat 0 0");
        assertTrue(e.contains("unknown command 'vm_creat'"), e);
        assertTrue(e.contains("did you mean vm_create?"), e);
        assertTrue(e.contains("kernel_list"), e);
        assertFalse(fails("frobnicate").contains("did you mean"));
    }

    @Test
    void kernelListShowsIdsForKernelsAndReasonsForTheRest() {
        List<String> lines = run("kernel_list").lines().toList();
        assertEquals(Commands.Outcome.OK, outcome);
        assertEquals(List.of("id", "file", "size", "kind"), List.of(lines.get(0).split("\\s+")));
        assertTrue(lines.get(1).matches("-\\s+README\\s+120 B\\s+not a kernel .*"), lines.get(1));
        assertTrue(lines.get(2).matches("0\\s+bzImage-6.1\\s+7.6 MiB\\s+bzImage"), lines.get(2));
        assertTrue(lines.get(3).matches("1\\s+vmlinux-6.1\\s+16.8 MiB\\s+vmlinux"), lines.get(3));
    }

    @Test
    void kernelListTellsWhyThereAreNoKernels() {
        catalog.kernels.clear();
        catalog.kernelProblem = "the guest kernel directory /nope does not exist";
        assertEquals("no kernels: the guest kernel directory /nope does not exist\n", run("kernel_list"));
        catalog.kernelProblem = null;
        assertEquals("no kernels: the guest kernel directory /k has no files\n", run("kernel_list"));
    }

    @Test
    void imageListShowsFilesystemAndLabel() {
        List<String> lines = run("image_list").lines().toList();
        assertTrue(lines.get(1).matches("0\\s+alpine.ext4\\s+64 MiB\\s+ext4 label alpine"), lines.get(1));
        assertTrue(lines.get(2).matches("-\\s+notes.txt\\s+3 B\\s+too small for an ext4 image"), lines.get(2));
        assertTrue(lines.get(3).matches("1\\s+root.ext4\\s+128 MiB\\s+ext4 \\(no label\\)"), lines.get(3));
    }

    @Test
    void listCommandsTakeNoArguments() {
        assertTrue(fails("kernel_list 0").contains("kernel_list takes no arguments"));
        assertTrue(fails("image_list all").contains("image_list takes no arguments"));
        assertTrue(fails("vm_list -a").contains("vm_list takes no arguments"));
    }

    @Test
    void vmCreatePrintsTheNewIdAndPassesTheResolvedFiles() {
        assertEquals("1\n", run("vm_create 1 0"));
        assertEquals(Commands.Outcome.OK, outcome);
        Machines.Spec s = machines.created.getFirst();
        assertEquals(Path.of("/k/vmlinux-6.1"), s.kernel());
        assertEquals(Path.of("/i/alpine.ext4"), s.image());
        assertEquals(512L << 20, s.memoryBytes());
        assertEquals(1, s.cpus());
        assertEquals("", s.cmdline());
        assertFalse(s.readOnly());
        assertEquals(java.util.Optional.empty(), s.vsock(), "the host's default socket");
    }

    @Test
    void vmCreateVsockPutsTheSocketWhereAsked() {
        String dir = System.getProperty("java.io.tmpdir");
        assertEquals("1\n", run("vm_create 1 0 --vsock " + dir + "/sandbox.vsock"));
        assertEquals(java.util.Optional.of(Path.of(dir, "sandbox.vsock")), machines.created.getFirst().vsock());
    }

    @Test
    void vmCreateOptions() {
        assertEquals("1\n", run("vm_create 0 1 --mem 1G --cpus 4 --cmdline \"quiet loglevel=3\" --ro"));
        Machines.Spec s = machines.created.getFirst();
        assertEquals(1L << 30, s.memoryBytes());
        assertEquals(4, s.cpus());
        assertEquals("quiet loglevel=3", s.cmdline());
        assertTrue(s.readOnly());
        assertEquals("2\n", run("vm_create --mem=256M --cpus=2 0 1 --ro"));
        assertEquals(256L << 20, machines.created.get(1).memoryBytes());
        assertEquals(2, machines.created.get(1).cpus());
    }

    @Test
    void dataDisksFollowTheRootImageInTheOrderGiven() {
        assertEquals("1\n", run("vm_create 0 0 --disk 1 --disk=1,ro"));
        Machines.Spec s = machines.created.getFirst();
        assertEquals(List.of(new Machines.Disk(Path.of("/i/root.ext4"), false),
                new Machines.Disk(Path.of("/i/root.ext4"), true)), s.disks());
        String list = run("vm_list");
        assertTrue(list.contains("alpine.ext4, vdb=root.ext4, vdc=root.ext4 (ro)"), list);
    }

    @Test
    void aDataDiskInUseReadWriteIsRefusedNamingItsVm() {
        run("vm_create 0 0 --disk 1");
        assertEquals("error: image 1 (root.ext4) is in use read-write by vm 1: vm_destroy 1 first, or add --ro to "
                + "attach it read-only", fails("vm_create 0 1"));
        assertEquals("error: image 1 (root.ext4) is in use read-write by vm 1: vm_destroy 1 first, or add ,ro to "
                + "attach it read-only", fails("vm_create 0 0 --ro --disk 1"));
        assertEquals("2\n", run("vm_create 0 0 --ro --disk 1,ro"));
        assertEquals(2, machines.created.size());
    }

    @Test
    void kernelsAndImagesByFileName() {
        assertEquals("1\n", run("vm_create vmlinux-6.1 root.ext4 --disk alpine.ext4,ro --disk=0,ro"));
        Machines.Spec s = machines.created.getFirst();
        assertEquals(Path.of("/k/vmlinux-6.1"), s.kernel());
        assertEquals(Path.of("/i/root.ext4"), s.image());
        assertEquals(List.of(new Machines.Disk(Path.of("/i/alpine.ext4"), true),
                new Machines.Disk(Path.of("/i/alpine.ext4"), true)), s.disks());
        assertEquals("error: notes.txt: too small for an ext4 image", fails("vm_create vmlinux-6.1 notes.txt"));
        assertTrue(fails("vm_create ../k/vmlinux-6.1 0").contains("without '/'"));
        assertTrue(fails("vm_create 0 0 --disk ../i/root.ext4").contains("is not an image id or file name"));
        assertEquals(1, machines.created.size());
    }

    @Test
    void cpusAboveTheHostsLimitAreRefusedUpFront() {
        machines.maxVcpus = 8;
        assertEquals("error: --cpus 9 is out of range: this host runs 1 to 8 vCPUs per VM, e.g. --cpus 2",
                fails("vm_create 0 0 --cpus 9"));
        assertTrue(machines.created.isEmpty());
        assertEquals("1\n", run("vm_create 0 0 --cpus 8"));
    }

    @Test
    void helpVmCreateSaysTheMemoryRule() {
        machines.memoryRule = "running VMs may be promised 3.5 GiB together";
        String help = run("help vm_create");
        assertTrue(help.contains("Guest memory is taken as the guest uses it, so vm_create weighs the memory of "
                + "all running VMs together against the host's: running VMs may be promised 3.5 GiB together."), help);
    }

    @Test
    void badDiskValuesAreOneLine() {
        assertTrue(fails("vm_create 0 0 --disk").contains("--disk needs a value"));
        assertTrue(fails("vm_create 0 0 --disk x").contains("no image named 'x' in /i: image_list shows the images"));
        assertTrue(fails("vm_create 0 0 --disk 7").contains("no image with id 7"));
        assertTrue(fails("vm_create 0 0 --disk /etc/hostname").contains("is not an image id or file name"),
                "paths only in the hosted shell");
        commands = new Commands(catalog, machines, null, false, true);
        assertTrue(fails("vm_create 0 0 --disk /no/such.img,ro").contains("/no/such.img does not exist"));
        assertTrue(machines.created.isEmpty());
    }

    @Test
    void theNetworkCardFollowsTheShellsDefaultUnlessToldOtherwise() {
        run("vm_create 0 1 --ro");
        run("vm_create 0 1 --ro --net");
        assertFalse(machines.created.get(0).net(), "a hosted shell gives no card unless asked");
        assertTrue(machines.created.get(1).net());
        commands = new Commands(catalog, machines, null, true);
        run("vm_create 0 1 --ro");
        run("vm_create 0 1 --ro --no-net");
        assertTrue(machines.created.get(2).net(), "the boot image's shells give a card unless told --no-net");
        assertFalse(machines.created.get(3).net());
    }

    @Test
    void aCardUsesVhostNetUnlessToldNoVhost() {
        commands = new Commands(catalog, machines, null, true);
        run("vm_create 0 1 --ro");
        run("vm_create 0 1 --ro --no-vhost");
        assertTrue(machines.created.get(0).vhost());
        assertFalse(machines.created.get(1).vhost());
        assertTrue(machines.created.get(1).net());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "vm_create|vm_create needs a kernel id and an image id",
            "vm_create 0|vm_create needs an image id after the kernel id: vm_create 0 <image id>",
            "vm_create 0 1 2|vm_create takes two ids, got 3",
            "vm_create x 0|no kernel named 'x' in /k: kernel_list shows the kernels",
            "vm_create 0 y|no image named 'y' in /i: image_list shows the images",
            "vm_create -1 0|no kernel named '-1' in /k",
            "vm_create 7 0|no kernel with id 7: kernel_list shows ids 0-1",
            "vm_create 0 9|no image with id 9: image_list shows ids 0-1",
            "vm_create 0 0 --mem lots|bad memory size 'lots': write it like 512M, 2G or 1048576K",
            "vm_create 0 0 --mem 0|bad memory size '0'",
            "vm_create 0 0 --mem 12X|bad memory size '12X'",
            "vm_create 0 0 --mem 1M|--mem 1M is too little for a Linux guest: give at least 16M",
            "vm_create 0 0 --mem|--mem needs a value: a size like 512M or 2G",
            "vm_create 0 0 --mem --ro|--mem needs a value",
            "vm_create 0 0 --cpus many|--cpus many is not a number",
            "vm_create 0 0 --cpus 0|--cpus 0 is out of range: this host runs 1 to 254 vCPUs per VM, e.g. --cpus 2",
            "vm_create 0 0 --cpus 255|--cpus 255 is out of range: this host runs 1 to 254 vCPUs per VM",
            "vm_create 0 0 --cpus 999|--cpus 999 is out of range",
            "vm_create 0 0 --ro=yes|--ro takes no value",
            "vm_create 0 0 --fast|unknown option --fast: vm_create takes --mem SIZE, --cpus N, --cmdline \"...\", --ro, --disk IMAGE[,ro], --net/--no-net, --no-vhost, --vsock PATH, --share DIR[,tag=T][,ro] and --hugepages",
            "vm_create 0 0 --hugepages=yes|--hugepages takes no value: write just --hugepages",
            "vm_create 0 0 --no-vhost|--no-vhost is about the network card, and this VM gets none: drop --no-vhost, or add --net",
            "vm_create 0 0 --net --no-vhost=1|--no-vhost takes no value",
            "vm_create 0 0 --vsock rel.vsock|--vsock rel.vsock: give an absolute path for the socket",
            "vm_create 0 0 --vsock /nonexistent-dir/x.vsock|--vsock /nonexistent-dir/x.vsock: directory /nonexistent-dir does not exist",
            "vm_create 0 0 --cmdline \"quiet|unclosed double quote",
    })
    void vmCreateRefusesWrongInputWithOneLineAndMakesNothing(String line, String expected) {
        String e = fails(line);
        assertTrue(e.contains(expected), e);
        assertTrue(machines.created.isEmpty());
    }

    @Test
    void anImageInUseReadWriteIsRefusedButMayBeSharedReadOnly() {
        assertEquals("1\n", run("vm_create 1 0"));
        String e = fails("vm_create 0 0");
        assertEquals("error: image 0 (alpine.ext4) is in use read-write by vm 1: vm_destroy 1 first, "
                + "or add --ro to attach it read-only", e);
        assertEquals(1, machines.vms.size());
        assertEquals("2\n", run("vm_create 0 0 --ro"));
        assertEquals("3\n", run("vm_create 0 0 --ro"));
        run("vm_destroy 1");
        // A writer never joins readers, whose view would change under them unannounced.
        assertEquals("error: image 0 (alpine.ext4) is in use read-only by vm 2: vm_destroy 2 first", fails("vm_create 0 0"));
        run("vm_destroy 2");
        run("vm_destroy 3");
        assertEquals("4\n", run("vm_create 0 0"));
    }

    @Test
    void aFailureOfTheMachinesIsOneLineAndLeavesNoVm() {
        machines.failCreateWith = "kernel 0 (bzImage-6.1) cannot boot: no PVH entry point";
        assertEquals("error: kernel 0 (bzImage-6.1) cannot boot: no PVH entry point", fails("vm_create 0 0"));
        assertTrue(machines.vms.isEmpty());
    }

    @Test
    void noKernelsAtAllSaysWhy() {
        catalog.kernels.clear();
        catalog.kernelProblem = "no guest kernel directory: start with --guest-kernel DIR";
        assertEquals("error: no kernel with id 0: no guest kernel directory: start with --guest-kernel DIR",
                fails("vm_create 0 0"));
        catalog.kernelProblem = null;
        assertTrue(fails("vm_create 0 0").endsWith("there are no kernels (kernel_list shows why)"));
    }

    @Test
    void hugepagesAreAskedForAndShown() {
        run("vm_create 0 0 --hugepages --mem 1G");
        assertTrue(machines.created.getFirst().hugepages());
        run("vm_create 0 1");
        assertTrue(!machines.created.get(1).hugepages(), "4 KiB pages unless asked");
        List<String> lines = run("vm_list").lines().toList();
        assertTrue(lines.get(1).contains("1 GiB 2M hugetlbfs"), lines.get(1));
        assertTrue(!lines.get(2).contains("huge"), lines.get(2));
    }

    @Test
    void vmListShowsEveryColumn() {
        assertEquals("no VMs: vm_create <kernel id> <image id> makes one\n", run("vm_list"));
        run("vm_create 1 0 --mem 256M --cpus 2");
        run("vm_create 0 1 --ro");
        machines.stop(2, "guest halted");
        List<String> lines = run("vm_list").lines().toList();
        assertEquals(List.of("id", "kernel", "disks", "vcpus", "memory", "state", "uptime", "net"),
                List.of(lines.get(0).split("\\s+")));
        assertTrue(lines.get(1).matches("1\\s+vmlinux-6.1\\s+alpine.ext4\\s+2\\s+256 MiB\\s+running\\s+0:01:23\\s+-"), lines.get(1));
        assertTrue(lines.get(2).matches("2\\s+bzImage-6.1\\s+root.ext4 \\(ro\\)\\s+1\\s+512 MiB\\s+stopped: guest halted\\s+0:01:23\\s+-"),
                lines.get(2));
    }

    @Test
    void vmListAndHelpSayWhereGuestsNetworkReaches() {
        machines.networkReach = "guests on the bridge reach beyond this host through eth0 (NAT)";
        run("vm_create 0 0");
        assertFalse(run("vm_list").contains("network:"), "no VM has a card: nothing to say");
        machines.net = "172.30.0.3/16 vhost-net";
        run("vm_create 0 1");
        assertEquals("network: guests on the bridge reach beyond this host through eth0 (NAT)",
                run("vm_list").lines().toList().getLast());
        assertTrue(run("help vm_create").contains(" Network: guests on the bridge reach beyond this host through eth0 (NAT)."));
    }

    @Test
    void uptimeFormat() {
        assertEquals("0:00:00", Commands.uptime(java.time.Duration.ZERO));
        assertEquals("1:01:01", Commands.uptime(java.time.Duration.ofSeconds(3661)));
        assertEquals("2d 0:00:05", Commands.uptime(java.time.Duration.ofSeconds(2 * 86400 + 5)));
    }

    @Test
    void vmConsoleChecksTheIdThenHandsOverToTheFrontEnd() {
        assertEquals("error: vm_console needs a vm id: vm_console <vm id>, e.g. vm_console 1 "
                + "(there are no VMs; vm_create makes one)", fails("vm_console"));
        run("vm_create 0 0");
        assertEquals("error: 'one' is not a vm id: ids are numbers (vm_list shows id 1)", fails("vm_console one"));
        assertEquals("error: no vm with id 5 (vm_list shows id 1)", fails("vm_console 5"));
        assertTrue(fails("vm_console 1 2").contains("vm_console takes one vm id"));
        assertTrue(consoleRuns.isEmpty());
        assertEquals("attached 1\n", run("vm_console 1"));
        assertEquals(List.of(1), consoleRuns);
    }

    @Test
    void vmDestroyRemovesTheVm() {
        run("vm_create 0 0");
        run("vm_create 1 1");
        assertEquals("error: no vm with id 3 (vm_list shows ids 1, 2)", fails("vm_destroy 3"));
        assertTrue(fails("vm_destroy").contains("vm_destroy needs a vm id"));
        assertTrue(fails("vm_destroy 1x").contains("'1x' is not a vm id"));
        assertEquals("vm 1 destroyed\n", run("vm_destroy 1"));
        assertEquals(List.of(2), machines.list().stream().map(Machines.Info::id).toList());
        assertEquals("error: no vm with id 1 (vm_list shows id 2)", fails("vm_destroy 1"));
    }

    @Test
    void helpListsAndExplains() {
        String all = run("help");
        for (String c : List.of("kernel_list", "image_list", "vm_create", "vm_list", "vm_console", "vm_destroy",
                "vm_pause", "vm_resume", "vm_snapshot", "vm_restore", "vm_clone", "help", "exit", "quit")) {
            assertTrue(all.contains("\n" + c + " "), c);
        }
        String one = run("help vm_create");
        assertTrue(one.startsWith("usage: vm_create <kernel> <image> [--mem 512M]"), one);
        assertTrue(one.contains("an id or a file name from kernel_list and image_list"), one);
        assertTrue(fails("help vm_fly").contains("no command 'vm_fly' to explain"));
        assertTrue(fails("help a b").contains("help takes one command name"));
    }

    @Test
    void pauseAndResumeShowInVmList() {
        run("vm_create 0 0");
        assertEquals("vm 1 paused\n", run("vm_pause 1"));
        assertTrue(run("vm_list").lines().toList().get(1).matches("1\\s+bzImage-6.1\\s+alpine.ext4\\s+1\\s+512 MiB\\s+paused\\s+.*"));
        assertEquals("error: vm 1 is paused already: vm_resume 1 lets it go on", fails("vm_pause 1"));
        assertEquals("vm 1 resumed\n", run("vm_resume 1"));
        assertEquals("error: vm 1 is not paused: it is running", fails("vm_resume 1"));
        machines.stop(1, "guest halted");
        assertEquals("error: vm 1 has stopped (guest halted): there is nothing to pause", fails("vm_pause 1"));
        assertEquals("error: no vm with id 99 (vm_list shows id 1)", fails("vm_pause 99"));
        assertTrue(fails("vm_resume").contains("vm_resume needs a vm id"));
        assertEquals(List.of("pause 1", "resume 1"), machines.calls);
    }

    @Test
    void snapshotPrintsWhatItWroteAndRestorePrintsTheNewId(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        run("vm_create 0 0 --mem 256M");
        Path dir = tmp.resolve("snap");
        assertEquals("vm 1: snapshot in " + dir + " (256 MiB memory, 12 MiB written, 16 MiB disks, paused 41 ms)\n",
                run("vm_snapshot 1 " + dir));
        assertEquals(1, machines.vms.size(), "without --stop the VM goes on");
        assertEquals("vm 1: snapshot in " + dir + " (256 MiB memory, 12 MiB written, 16 MiB disks, paused 41 ms); "
                + "vm 1 destroyed\n", run("vm_snapshot 1 " + dir + " --stop"));
        assertTrue(machines.vms.isEmpty());
        Files.createDirectories(dir);
        assertEquals("2\n", run("vm_restore " + dir));
        assertEquals("3\n", run("vm_restore " + dir + "/ --paused"));
        assertTrue(run("vm_list").contains("paused"));
        assertEquals(List.of("snapshot 1 " + dir, "snapshot 1 " + dir + " stop", "restore " + dir,
                "restore " + dir + " paused"), machines.calls);
    }

    @Test
    void aRelativeDirectoryIsUnderTheWorkingDirectory() {
        run("vm_create 0 0");
        run("vm_snapshot 1 some/snap");
        assertEquals("snapshot 1 " + Path.of("").toAbsolutePath().resolve("some/snap"), machines.calls.getFirst());
    }

    @Test
    void aSnapshotInUseByItsRestoredVmIsRefusedNamingIt(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        machines.create(new Machines.Spec(Path.of("/k/v"), tmp.resolve("vda.img"), 1 << 29, 1, "", false));
        assertEquals("error: snapshot " + tmp + " is in use: vm 1 runs on its disk copy vda.img; vm_destroy 1 first, "
                + "or vm_clone 1 for more VMs like it", fails("vm_restore " + tmp));
        assertTrue(machines.calls.isEmpty());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "vm_snapshot|vm_snapshot needs a vm id and a directory: vm_snapshot <vm id> <dir> [--stop]",
            "vm_snapshot 1|vm_snapshot needs a vm id and a directory",
            "vm_snapshot 1 /a /b|vm_snapshot takes a vm id and one directory, got '1 /a /b'",
            "vm_snapshot 7 /a|no vm with id 7 (vm_list shows id 1)",
            "vm_snapshot x /a|'x' is not a vm id",
            "vm_snapshot 1 /a --stop=yes|--stop takes no value: write just --stop",
            "vm_snapshot 1 /a --now|unknown option --now: vm_snapshot takes --stop",
            "vm_restore|vm_restore needs the directory of a snapshot: vm_restore <dir> [--paused]",
            "vm_restore /a /b|vm_restore takes one directory, got '/a /b'",
            "vm_restore /nonexistent|no snapshot in /nonexistent: it does not exist (vm_snapshot <vm id> <dir> writes one)",
            "vm_restore /a --stop|unknown option --stop: vm_restore takes --paused",
            "vm_clone|vm_clone needs a vm id: vm_clone <vm id> [--count N]",
            "vm_clone 1 2|vm_clone takes one vm id, got '1 2'",
            "vm_clone 1 --count 0|--count 0 is out of range: vm_clone makes 1 to 64 clones at once, e.g. --count 2",
            "vm_clone 1 --count 65|--count 65 is out of range",
            "vm_clone 1 --count=many|--count many is not a number",
            "vm_clone 1 --count|--count needs a value",
            "vm_clone 9|no vm with id 9 (vm_list shows id 1)",
    })
    void snapshotRestoreAndCloneRefuseWrongInputWithOneLine(String line, String expected) {
        run("vm_create 0 0");
        machines.calls.clear();
        String e = fails(line);
        assertTrue(e.contains(expected), e);
        assertEquals(List.of(), machines.calls, "nothing was asked of the VMM");
    }

    @Test
    void clonePrintsTheNewIdsOnOneLine() {
        run("vm_create 0 0");
        assertEquals("2\n", run("vm_clone 1"));
        assertEquals("3 4 5\n", run("vm_clone 1 --count 3"));
        assertEquals("6 7\n", run("vm_clone 1 --count=2"));
        machines.stop(1, "guest halted");
        assertEquals("error: vm 1 has stopped (guest halted): there is nothing to clone", fails("vm_clone 1"));
        assertEquals(List.of("clone 1 1", "clone 1 3", "clone 1 2"), machines.calls);
    }

    @Test
    void aConfinedShellRefusesASnapshotDirectoryOutsideItsRoots(@org.junit.jupiter.api.io.TempDir Path tmp)
            throws Exception {
        Path root = Files.createDirectories(tmp.resolve("snapshots"));
        Files.createSymbolicLink(root.resolve("out"), tmp);
        commands = new Commands(catalog, machines, null, false, false, List.of(root, Path.of("/run/hyper-gen")));
        run("vm_create 0 0");
        assertEquals("vm 1: snapshot in " + root.resolve("a/b") + " (512 MiB memory, 12 MiB written, 16 MiB disks, "
                + "paused 41 ms)\n", run("vm_snapshot 1 " + root.resolve("a/b")));
        assertEquals("error: vm_snapshot: " + tmp.resolve("elsewhere") + " is outside what this confined hyper-gen "
                + "(--confine) may write: give a directory in " + root + ", /run/hyper-gen",
                fails("vm_snapshot 1 " + tmp.resolve("elsewhere")));
        assertTrue(fails("vm_snapshot 1 " + root.resolve("out/x")).contains("is outside what this confined"),
                "a link may not lead out of a root");
        assertTrue(fails("vm_restore " + root + "/../x").contains("vm_restore: " + tmp.resolve("x") + " is outside"));
        assertTrue(run("help vm_snapshot").contains("This hyper-gen is confined (--confine): <dir> must be in " + root
                + ", /run/hyper-gen; anywhere else is refused."));
    }

    @Test
    void helpExplainsTheSnapshotCommands() {
        String snap = run("help vm_snapshot");
        assertTrue(snap.startsWith("usage: vm_snapshot <vm id> <dir> [--stop]\n"), snap);
        assertTrue(snap.contains("'state'") && snap.contains("'memory'") && snap.contains("vda.img"), snap);
        assertFalse(snap.contains("confined"), "an unconfined shell writes anywhere: " + snap);
        assertTrue(run("help vm_restore").startsWith("usage: vm_restore <dir> [--paused]\n"));
        String clone = run("help vm_clone");
        assertTrue(clone.startsWith("usage: vm_clone <vm id> [--count N]\n"), clone);
        assertTrue(clone.contains("copy-on-write") && clone.contains("a networked clone gets a MAC and address of its own"), clone);
        assertTrue(run("help vm_pause").startsWith("usage: vm_pause <vm id>\n"));
        assertTrue(run("help vm_resume").startsWith("usage: vm_resume <vm id>\n"));
        assertTrue(run("help vm_list").contains("paused"));
    }

    @Test
    void exitAndQuitLeaveUnlessRefused() {
        run("exit");
        assertEquals(Commands.Outcome.EXIT, outcome);
        run("quit");
        assertEquals(Commands.Outcome.EXIT, outcome);
        assertTrue(fails("exit now").contains("exit takes no arguments"));
        commands = new Commands(catalog, machines, "exit is refused on the boot console: the shell must stay up here");
        assertEquals("error: exit is refused on the boot console: the shell must stay up here", fails("exit"));
        assertEquals("error: exit is refused on the boot console: the shell must stay up here", fails("quit"));
    }

    @Test
    void aBugInsideACommandIsStillOneLine() {
        Commands broken = new Commands(new FakeCatalog() {
            @Override
            public List<CatalogEntry> kernels() {
                throw new IllegalStateException("boom");
            }
        }, machines, null);
        StringWriter s = new StringWriter();
        assertEquals(Commands.Outcome.FAILED, broken.execute("kernel_list", new PrintWriter(s), console));
        assertEquals(1, s.toString().lines().count());
    }

    @Property(tries = 300)
    void anyLineEndsInOutputOrOneErrorLineAndNeverThrows(@ForAll @StringLength(max = 60) String junk) {
        for (String line : List.of(junk, "vm_create " + junk, "vm_destroy " + junk, "vm_console " + junk,
                "vm_pause " + junk, "vm_clone 1 --count " + junk, "vm_restore /nonexistent/" + junk,
                "vm_create 0 0 --mem " + junk, "help " + junk)) {
            StringWriter s = new StringWriter();
            Commands.Outcome o = new Commands(FakeCatalog.standard(), new FakeMachines(), "refused")
                    .execute(line, new PrintWriter(s), console);
            if (o == Commands.Outcome.FAILED) {
                assertEquals(1, s.toString().lines().count(), line + " -> " + s);
                assertTrue(s.toString().startsWith("error: "));
                assertFalse(s.toString().contains("internal error"), s.toString());
            }
        }
    }

    @Test
    void aShareIsADirectoryWithATagAndMaybeRo() throws Exception {
        assertEquals(new hg.vmm.VmConfig.Share(Path.of("/srv/src"), "src", false), Commands.share("/srv/src"));
        assertEquals(new hg.vmm.VmConfig.Share(Path.of("/srv/src"), "code", true), Commands.share("/srv/src,tag=code,ro"));
        for (String[] bad : new String[][] {
                {"srv/src", "--share srv/src (,tag=NAME names it): give the directory's absolute path, e.g. /srv/src"},
                {"/srv/src,rw", "--share /srv/src,rw: 'rw' is neither tag=NAME nor ro"},
                {"/", "--share / (,tag=NAME names it): share tag '' is not 1 to 31 letters, digits, '_', '-' or '.' starting "
                        + "with a letter or digit; give it a tag"},
                {"/srv/x,tag=a/b", "--share /srv/x,tag=a/b: share tag 'a/b' is not 1 to 31 letters, digits, '_', '-' or '.' "
                        + "starting with a letter or digit"}}) {
            hg.host.HostException e = org.junit.jupiter.api.Assertions.assertThrows(hg.host.HostException.class, () -> Commands.share(bad[0]));
            assertEquals(bad[1], e.getMessage());
        }
        assertEquals(", 9p src=/srv/src (ro), 9p out=/tmp/out",
                Commands.shareNames(List.of(new hg.vmm.VmConfig.Share(Path.of("/srv/src"), "src", true),
                        new hg.vmm.VmConfig.Share(Path.of("/tmp/out"), "out", false))));
    }
}
