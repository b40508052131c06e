package hg.e2e;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * How many times one run of the e2e suite may run a scenario again for a rig signature. The e2e
 * tests run in one JVM (one Surefire fork), so {@link #SUITE} counts for the whole run: a change
 * that breaks boots now and then cannot hide behind retries, as more than two in a run fail.
 */
final class RetryBudget {
    static final int SUITE_LIMIT = 2;
    /** The run's budget; the summary at the end of the run prints its count. */
    static final RetryBudget SUITE = new RetryBudget(SUITE_LIMIT, System.out::println);

    private final int limit;
    private final Consumer<String> log;
    private final List<String> taken = new ArrayList<>();

    /** A budget of {@code limit} retries that says each one on {@code log}. */
    RetryBudget(int limit, Consumer<String> log) {
        this.limit = limit;
        this.log = log;
    }

    /**
     * Takes one retry for {@code scenario}, which failed with {@code signature}, and says so in the
     * test log; when the budget is used up, fails instead (with {@code failure} as the cause).
     */
    synchronized void take(RigSignature signature, String scenario, Throwable failure) {
        if (taken.size() >= limit) {
            AssertionError refused = new AssertionError("the suite's retry budget (" + limit + ") is used up: not running '"
                    + scenario + "' again after " + signature.name() + " (" + signature.detail()
                    + "); the retries so far: " + String.join("; ", taken), failure);
            throw refused;
        }
        taken.add(signature.name() + " in '" + scenario + "'");
        log.accept("e2e: RETRY " + signature.name() + ": " + scenario + ": " + signature.detail());
    }

    synchronized int used() {
        return taken.size();
    }

    int limit() {
        return limit;
    }
}
