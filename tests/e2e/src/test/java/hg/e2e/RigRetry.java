package hg.e2e;

import java.time.Duration;
import java.util.List;

/**
 * One more run of a guest scenario whose guest the rig lost. With the emulated CPU's nested paging,
 * guests of the nest triple-faulted now and then at any moment, at an idle prompt as in a transfer
 * (KVM on AMD resets the vCPU at the shutdown, so no registers are left to say where), QEMU's own
 * microvm guests included. up.sh now has the nest's KVM use shadow paging, which the losses have
 * not been seen under; this stays as the net for the rig's rarer faults, as {@link GuestBoot}'s
 * second boot does. A scenario whose guest ends that way says so in the test log
 * ({@code e2e: RETRY}), the VMs it made are destroyed, and it runs once more. Any other failure
 * (a wrong answer, a refused command, a kernel panic) and a second loss fail the test.
 */
final class RigRetry {
    private static final Duration COMMAND = Duration.ofSeconds(60);

    private RigRetry() {}

    static void once(HgShell shell, String scenario, Runnable body) {
        once(shell, scenario, body, () -> {});
    }

    /** As {@link #once(HgShell, String, Runnable)}; {@code undo} then clears what else the lost run left (host files, processes). */
    static void once(HgShell shell, String scenario, Runnable body, Runnable undo) {
        List<Integer> before = shell.made();
        try {
            body.run();
        } catch (HgShell.GuestLost e) {
            if (!e.likeTheRigLosesGuests()) {
                throw e;
            }
            List<Integer> leftovers = shell.made().stream().filter(id -> !before.contains(id)).toList();
            System.out.printf("e2e: RETRY: %s: the guest was lost (%s); destroying vm %s and running it once more%n",
                    scenario, e.seen, leftovers);
            shell.resync(COMMAND);
            for (int id : leftovers) {
                // A VM the lost run already destroyed answers with an error line: nothing to undo then.
                shell.command("vm_destroy " + id, COMMAND);
            }
            undo.run();
            body.run();
        }
    }
}
