package hg.e2e;

import java.time.Duration;
import java.util.List;

/**
 * The e2e tests' one retry: a scenario that failed with one of the rig's own signatures
 * ({@link RigSignature}) is cleaned up and run once more, said in the test log and counted against
 * the suite's {@link RetryBudget}. Any other failure fails the test at once, and so does a second
 * rig fault in the same scenario or a retry past the budget: a change that makes boots fail now and
 * then must show, not be papered over by runs that happened to pass.
 */
final class RigRetry {
    private static final Duration COMMAND = Duration.ofSeconds(60);

    private RigRetry() {}

    /** A guest scenario in the nest's shell: a retry first destroys the VMs the failed run made. */
    static void once(HgShell shell, String scenario, Runnable body) {
        once(shell, scenario, body, () -> {});
    }

    /** As {@link #once(HgShell, String, Runnable)}; {@code undo} then clears what else the failed run left (host files, processes). */
    static void once(HgShell shell, String scenario, Runnable body, Runnable undo) {
        List<Integer> before = shell.made();
        once(RetryBudget.SUITE, scenario, body, () -> {
            shell.resync(COMMAND);
            for (int id : shell.made()) {
                if (!before.contains(id)) {
                    // A VM the failed run already destroyed answers with an error line: nothing to undo then.
                    shell.command("vm_destroy " + id, COMMAND);
                }
            }
            undo.run();
        });
    }

    /** Runs {@code body}; after a rig fault, {@code cleanup} and {@code body} once more if {@code budget} allows. */
    static void once(RetryBudget budget, String scenario, Runnable body, Runnable cleanup) {
        try {
            body.run();
        } catch (ConsoleFailure e) {
            RigSignature signature = RigSignature.classify(e.seen).orElseThrow(() -> e);
            budget.take(signature, scenario, e);
            cleanup.run();
            body.run();
        }
    }
}
