package hg.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hg.vmm.MemoryAdmission;
import hg.vmm.StopReason;
import hg.vmm.VmManager;
import hg.vmm.VmState;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class VmmMachinesTest {
    @Test
    void memAvailableFromMeminfo() {
        assertEquals(OptionalLong.of(1536000L * 1024), VmmMachines.parseMemAvailable(List.of(
                "MemTotal:        4030000 kB", "MemFree:          200000 kB", "MemAvailable:    1536000 kB")));
        assertEquals(OptionalLong.empty(), VmmMachines.parseMemAvailable(List.of("MemTotal: 1 kB")));
        assertEquals(OptionalLong.empty(), VmmMachines.parseMemAvailable(List.of("MemAvailable: lots kB")));
        assertTrue(VmmMachines.memAvailable().isPresent(), "this Linux has /proc/meminfo");
    }

    @Test
    void moreMemoryThanTheHostHasIsRefusedBeforeAnythingIsMade() {
        try (VmManager manager = new VmManager();
             VmmMachines m = new VmmMachines(manager, () -> OptionalLong.of(1024L << 20))) {
            HostException e = assertThrows(HostException.class, () -> m.create(new Machines.Spec(
                    Path.of("/nonexistent/vmlinux"), Path.of("/nonexistent/root.ext4"), 4L << 30, 1, "", false)));
            assertEquals("out of memory: 4 GiB asked, 1 GiB available on this host; try --mem 960M or less", e.getMessage());
            assertEquals(List.of(), m.list());
        }
        try (VmManager manager = new VmManager();
             VmmMachines m = new VmmMachines(manager, () -> OptionalLong.of(70L << 20))) {
            HostException e = assertThrows(HostException.class, () -> m.create(new Machines.Spec(
                    Path.of("/nonexistent/vmlinux"), Path.of("/nonexistent/root.ext4"), 512L << 20, 1, "", false)));
            assertEquals("out of memory: 512 MiB asked, 70 MiB available on this host; destroy a VM first", e.getMessage());
        }
    }

    /** MemAvailable leaves the hugetlbfs pool out: a VM on huge pages is weighed against the pool's free pages too. */
    @Test
    void aVmOnHugePagesMayUseTheFreePool() {
        Machines.Spec huge = new Machines.Spec(Path.of("/nonexistent/vmlinux"), Path.of("/nonexistent/root.ext4"),
                1L << 30, 1, "", false, List.of(), false, true, java.util.Optional.empty(), java.util.Optional.empty(),
                java.util.Optional.empty(), List.of(), true);
        try (VmManager manager = new VmManager();
             VmmMachines m = new VmmMachines(manager, () -> OptionalLong.of(256L << 20), () -> OptionalLong.of(1L << 30), false)) {
            HostException e = assertThrows(HostException.class, () -> m.create(huge));
            assertTrue(e.getMessage().startsWith("the VM could not be made: "), "past the memory check: " + e.getMessage());
            HostException small = assertThrows(HostException.class, () -> m.create(new Machines.Spec(
                    Path.of("/nonexistent/vmlinux"), Path.of("/nonexistent/root.ext4"), 1L << 30, 1, "", false)));
            assertTrue(small.getMessage().startsWith("out of memory: 1 GiB asked, 256 MiB available"), small.getMessage());
        }
        try (VmManager manager = new VmManager();
             VmmMachines all = new VmmMachines(manager, () -> OptionalLong.of(256L << 20), () -> OptionalLong.of(1L << 30), true)) {
            HostException e = assertThrows(HostException.class, () -> all.create(new Machines.Spec(
                    Path.of("/nonexistent/vmlinux"), Path.of("/nonexistent/root.ext4"), 1L << 30, 1, "", false)));
            assertTrue(e.getMessage().startsWith("the VM could not be made: "), "a host default puts every VM on huge pages: "
                    + e.getMessage());
        }
    }

    @Test
    void memoryPromisedToRunningVmsIsWeighedAgainstTheHostsTotal() {
        MemoryAdmission fourGiB = new MemoryAdmission(() -> OptionalLong.of(4L << 30), 512L << 20);
        try (VmManager manager = new VmManager(fourGiB, false);
             VmmMachines m = new VmmMachines(manager, () -> OptionalLong.of(64L << 30))) {
            HostException e = assertThrows(HostException.class, () -> m.create(new Machines.Spec(
                    Path.of("/nonexistent/vmlinux"), Path.of("/nonexistent/root.ext4"), 5L << 30, 1, "", false)));
            assertEquals("not enough memory for this VM: 5 GiB asked, 0 B promised to running VMs, limit 3.5 GiB (the "
                    + "host's 4 GiB less 512 MiB kept for the host and the VMM); destroy a VM first, or start hyper-gen "
                    + "with --overcommit", e.getMessage());
            assertEquals("running VMs may be promised 3.5 GiB of guest memory together (the host's 4 GiB less 512 MiB "
                    + "kept for the host and hyper-gen); hyper-gen --overcommit lifts this", m.memoryRule());
        }
        try (VmManager manager = new VmManager(fourGiB, true); VmmMachines m = new VmmMachines(manager)) {
            assertEquals("overcommit is on (hyper-gen --overcommit): guest memory is not weighed against the host's",
                    m.memoryRule());
        }
    }

    @Test
    void maxVcpusComesFromTheVmm() {
        try (VmManager manager = new VmManager(); VmmMachines m = new VmmMachines(manager)) {
            assertTrue(m.maxVcpus() >= 1 && m.maxVcpus() <= hg.vmm.VmConfig.MAX_VCPUS, String.valueOf(m.maxVcpus()));
        }
    }

    @Test
    void aMissingKernelFileIsOneLineFromTheVmm() {
        try (VmManager manager = new VmManager(); VmmMachines m = new VmmMachines(manager, OptionalLong::empty)) {
            HostException e = assertThrows(HostException.class, () -> m.create(new Machines.Spec(
                    Path.of("/nonexistent/vmlinux"), Path.of("/nonexistent/root.ext4"), 64L << 20, 1, "", false)));
            assertTrue(e.getMessage().startsWith("the VM could not be made: "), e.getMessage());
            assertTrue(e.getMessage().contains("/nonexistent/"), e.getMessage());
            assertEquals(List.of(), m.list());
        }
    }

    @Test
    void snapshotRestoreAndCloneRefusalsAreOneLineFromTheVmm(@org.junit.jupiter.api.io.TempDir Path tmp) {
        try (VmManager manager = new VmManager(); VmmMachines m = new VmmMachines(manager, OptionalLong::empty)) {
            assertEquals("no snapshot in " + tmp + ": it has no state file",
                    assertThrows(HostException.class, () -> m.restore(tmp, false)).getMessage());
            assertEquals("vm 5 could not be paused: no VM with id 5",
                    assertThrows(HostException.class, () -> m.pause(5)).getMessage());
            assertTrue(assertThrows(HostException.class, () -> m.snapshot(5, tmp, false)).getMessage()
                    .startsWith("vm 5: no snapshot in " + tmp + ": "));
            assertEquals("no VM with id 5", assertThrows(HostException.class, () -> m.clone(5, 1)).getMessage());
        }
    }

    @Test
    void stopReasonsReadAsSentences() {
        assertEquals(new Machines.State.Running(), VmmMachines.state(new VmState.Running()));
        assertEquals(new Machines.State.Paused(), VmmMachines.state(new VmState.Paused()));
        assertEquals(new Machines.State.Stopped("the guest exited with code 7"),
                VmmMachines.state(new VmState.Stopped(new StopReason.DebugExit(7))));
        assertEquals(new Machines.State.Stopped("the guest rebooted (reset)"),
                VmmMachines.state(new VmState.Stopped(new StopReason.GuestReset())));
        assertEquals(new Machines.State.Stopped("VMM error: bad exit"),
                VmmMachines.state(new VmState.Stopped(new StopReason.InternalError("bad exit"))));
    }
}
