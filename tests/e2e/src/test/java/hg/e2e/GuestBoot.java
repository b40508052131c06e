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

    /** A boot in the nest takes 5-15 s; one that has shown no prompt by then has hung. */
    private static final Duration FIRST_TRY = Duration.ofSeconds(90);

    /**
     * Makes a VM with {@code vm_create ARGS}, attaches to it and waits for its shell; returns its id.
     * Guests nested under the rig's emulated SVM now and then triple-fault or hang in their boot,
     * under QEMU as under hyper-gen: such a VM is destroyed, said so in the test log, and made once
     * more. A second failure fails the test.
     */
    static int create(HgShell shell, String args, Duration bootTimeout) {
        try {
            return boot(shell, args, FIRST_TRY.compareTo(bootTimeout) < 0 ? FIRST_TRY : bootTimeout);
        } catch (FailedBoot e) {
            System.out.printf("e2e: RETRY: vm %d (vm_create %s) did not reach its prompt: %s; destroying it and"
                    + " booting once more%n", e.id, args, e.getCause().getMessage().lines().findFirst().orElse(""));
            shell.resync(COMMAND);
            shell.ok("vm_destroy " + e.id, COMMAND);
            try {
                return boot(shell, args, bootTimeout);
            } catch (FailedBoot again) {
                throw (AssertionError) again.getCause();
            }
        }
    }

    /** A VM that was made but did not boot to its prompt. */
    private static final class FailedBoot extends RuntimeException {
        final int id;

        FailedBoot(int id, AssertionError cause) {
            super(cause);
            this.id = id;
        }
    }

    private static int boot(HgShell shell, String args, Duration bootTimeout) {
        long t0 = System.nanoTime();
        int id = shell.vmCreate(args, COMMAND);
        double created = seconds(t0);
        double init;
        double prompt;
        try {
            shell.attach(id, COMMAND);
            shell.awaitGuest(INIT, id, bootTimeout);
            init = seconds(t0);
            shell.awaitGuestPrompt(id, bootTimeout);
            prompt = seconds(t0);
        } catch (AssertionError e) {
            throw new FailedBoot(id, e);
        }
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
