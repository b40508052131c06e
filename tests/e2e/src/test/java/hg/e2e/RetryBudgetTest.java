package hg.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The suite's retry budget: each retry said in the log, the third refused. A budget of its own, not the suite's. */
class RetryBudgetTest {
    private static final RigSignature LOSS = new RigSignature.GuestLostRegistersReset("[vm 3 stopped: registers lost]");
    private static final RigSignature JIT = new RigSignature.NestJvmJitFault("SIGILL in J 1 c1 java.lang.String.hashCode()I java.base@25");

    @Test
    void twoRetriesAreTakenAndSaidAndTheThirdFailsNamingTheOthers() {
        List<String> log = new ArrayList<>();
        RetryBudget budget = new RetryBudget(2, log::add);
        budget.take(LOSS, "two guests ping", new AssertionError("lost"));
        budget.take(JIT, "the kvm self-test", new AssertionError("died"));
        assertEquals(List.of("e2e: RETRY GuestLostRegistersReset: two guests ping: [vm 3 stopped: registers lost]",
                "e2e: RETRY NestJvmJitFault: the kvm self-test: SIGILL in J 1 c1 java.lang.String.hashCode()I java.base@25"), log);

        AssertionError third = new AssertionError("lost again");
        AssertionError refused = assertThrows(AssertionError.class, () -> budget.take(LOSS, "two vCPUs", third));
        assertTrue(refused.getMessage().startsWith("the suite's retry budget (2) is used up: not running 'two vCPUs' again"),
                refused.getMessage());
        assertTrue(refused.getMessage().contains("GuestLostRegistersReset in 'two guests ping'; NestJvmJitFault in 'the kvm self-test'"),
                refused.getMessage());
        assertSame(third, refused.getCause());
        assertEquals(2, budget.used(), "a refused retry is not counted");
        assertEquals(2, log.size(), "a refused retry is not said as a retry");
    }
}
