package hg.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The one retry layer without a nest: which failures run a scenario again, and how often. */
class RigRetryTest {
    private static final String LOSS = "[vm 3 stopped: the guest shut down (triple fault or shutdown on vCPU 0,"
            + " registers lost: the host's KVM reset the vCPU)]";
    private static final String PANIC = "Kernel panic - not syncing: Requested init /nonexistent failed (error -2).";

    private final List<String> log = new ArrayList<>();
    private final RetryBudget budget = new RetryBudget(2, log::add);
    private int runs;
    private int cleanups;

    /** A scenario body that fails with {@code failures} in turn, then passes. */
    private Runnable failing(AssertionError... failures) {
        return () -> {
            if (runs++ < failures.length) {
                throw failures[runs - 1];
            }
        };
    }

    @Test
    void aRigLossIsCleanedUpAndRunOnceMoreAndCounted() {
        RigRetry.once(budget, "s", failing(new ConsoleFailure("lost", LOSS)), () -> cleanups++);
        assertEquals(2, runs);
        assertEquals(1, cleanups);
        assertEquals(1, budget.used());
        assertEquals(List.of("e2e: RETRY GuestLostRegistersReset: s: " + LOSS), log);
    }

    @Test
    void aPanicFailsAtOnce() {
        ConsoleFailure panic = new ConsoleFailure("panicked", PANIC);
        assertSame(panic, assertThrows(AssertionError.class, () -> RigRetry.once(budget, "s", failing(panic), () -> cleanups++)));
        assertEquals(1, runs);
        assertEquals(0, cleanups);
        assertEquals(0, budget.used());
    }

    @Test
    void aFailureWithoutConsoleTextFailsAtOnce() {
        AssertionError timeout = new AssertionError("timed out after PT3M waiting for the guest's prompt: " + LOSS);
        assertSame(timeout, assertThrows(AssertionError.class, () -> RigRetry.once(budget, "s", failing(timeout), () -> cleanups++)));
        assertEquals(1, runs);
        assertEquals(0, budget.used());
    }

    @Test
    void aSecondRigLossInTheSameScenarioFailsIt() {
        ConsoleFailure second = new ConsoleFailure("lost again", LOSS);
        assertSame(second, assertThrows(AssertionError.class,
                () -> RigRetry.once(budget, "s", failing(new ConsoleFailure("lost", LOSS), second), () -> cleanups++)));
        assertEquals(2, runs);
        assertEquals(1, budget.used());
    }

    @Test
    void aRetryPastTheBudgetFailsTheScenario() {
        budget.take(new RigSignature.GuestLostRegistersReset(LOSS), "a", new AssertionError());
        budget.take(new RigSignature.GuestLostRegistersReset(LOSS), "b", new AssertionError());
        ConsoleFailure third = new ConsoleFailure("lost", LOSS);
        AssertionError refused = assertThrows(AssertionError.class, () -> RigRetry.once(budget, "c", failing(third), () -> cleanups++));
        assertSame(third, refused.getCause());
        assertEquals(1, runs);
        assertEquals(0, cleanups);
        assertEquals(2, budget.used());
    }
}
