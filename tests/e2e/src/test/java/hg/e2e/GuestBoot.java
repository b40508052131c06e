package hg.e2e;

import java.time.Duration;
import java.util.regex.Pattern;

/**
 * {@code vm_create} in the hyper-gen shell, then {@code vm_console} into the new guest until its
 * shell prompt: the common start of every guest scenario. Prints how long the boot took, for the
 * test log: wall time from typing vm_create to the guest kernel starting init and to the guest's
 * prompt, as seen on the nest's serial console, and the guest's own uptime at its prompt.
 */
final class GuestBoot {
    private static final Pattern INIT = Pattern.compile("Run (\\S+) as init process");
    private static final Duration COMMAND = Duration.ofSeconds(60);

    private GuestBoot() {}

    /**
     * Makes a VM with {@code vm_create ARGS}, attaches to it and waits for its shell; returns its id.
     * A boot that fails (a stop, a panic, no prompt in time) fails here at once, with no second boot:
     * a guest the rig lost is run again, if at all, by the scenario's {@link RigRetry}, which knows
     * the rig's faults from the product's.
     */
    static int create(HgShell shell, String args, Duration bootTimeout) {
        long t0 = System.nanoTime();
        int id = shell.vmCreate(args, COMMAND);
        double created = seconds(t0);
        shell.attach(id, COMMAND);
        shell.awaitGuest(INIT, id, bootTimeout);
        double init = seconds(t0);
        shell.awaitGuestPrompt(id, bootTimeout);
        double prompt = seconds(t0);
        String uptime = shell.guest("cut -d' ' -f1 /proc/uptime", COMMAND).strip();
        System.out.printf("e2e: vm %d (vm_create %s): id printed %.2f s, guest init %.2f s, guest prompt %.2f s"
                        + " after vm_create (wall, nest serial); guest uptime at its prompt %s s%n",
                id, args, created, init, prompt, uptime);
        return id;
    }

    private static double seconds(long since) {
        return (System.nanoTime() - since) / 1e9;
    }
}
