package hg.e2e;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.support.descriptor.ClassSource;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.TestPlan;

/**
 * One block at the end of the e2e run: the rig retries it took against the suite's budget, and
 * each test class with its wall time (a nest's boot included), so a run that leaned on retries or
 * got slower shows without reading the whole log. Registered through
 * META-INF/services/org.junit.platform.launcher.TestExecutionListener.
 */
public final class E2eSummary implements TestExecutionListener {
    private final Map<String, Long> started = new LinkedHashMap<>();
    /** Each class that ended, in the order they ended: its time and result. */
    private final Map<String, String> finished = new LinkedHashMap<>();

    @Override
    public synchronized void executionStarted(TestIdentifier id) {
        className(id).ifPresent(c -> started.put(c, System.nanoTime()));
    }

    @Override
    public synchronized void executionSkipped(TestIdentifier id, String reason) {
        className(id).ifPresent(c -> finished.put(c, "skipped: " + reason));
    }

    @Override
    public synchronized void executionFinished(TestIdentifier id, TestExecutionResult result) {
        className(id).ifPresent(c -> finished.put(c,
                String.format("%7.1f s  %s", (System.nanoTime() - started.get(c)) / 1e9, result.getStatus())));
    }

    @Override
    public synchronized void testPlanExecutionFinished(TestPlan plan) {
        StringBuilder out = new StringBuilder(String.format("e2e: rig retries: %d (budget %d)%n",
                RetryBudget.SUITE.used(), RetryBudget.SUITE.limit()));
        int width = finished.keySet().stream().mapToInt(String::length).max().orElse(0);
        finished.forEach((c, line) -> out.append(String.format("e2e:   %-" + width + "s %s%n", c, line)));
        System.out.print(out);
        System.out.flush();
    }

    private static java.util.Optional<String> className(TestIdentifier id) {
        return id.getSource().filter(ClassSource.class::isInstance).map(s -> ((ClassSource) s).getClassName());
    }
}
