package hg.e2e;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.TestSource;
import org.junit.platform.engine.support.descriptor.ClassSource;
import org.junit.platform.engine.support.descriptor.MethodSource;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.TestPlan;

/**
 * One block at the end of the e2e run: the rig retries it took against the suite's budget, and
 * each test class with its wall time (a nest's boot included) and how many of its tests failed, so
 * a run that leaned on retries or got slower shows without reading the whole log. Registered
 * through META-INF/services/org.junit.platform.launcher.TestExecutionListener.
 */
public final class E2eSummary implements TestExecutionListener {
    /** When each class node started, by its unique id: a class with tests of two engines runs twice. */
    private final Map<String, Long> started = new LinkedHashMap<>();
    /** Each class's time, its engines' runs added up (they need not follow each other). */
    private final Map<String, Double> seconds = new LinkedHashMap<>();
    private final Map<String, int[]> testsAndFailures = new LinkedHashMap<>();
    /** Each class that ended, in the order they ended: its line. */
    private final Map<String, String> finished = new LinkedHashMap<>();

    @Override
    public synchronized void executionStarted(TestIdentifier id) {
        if (testClass(id).isPresent()) {
            started.put(id.getUniqueId(), System.nanoTime());
        }
    }

    @Override
    public synchronized void executionSkipped(TestIdentifier id, String reason) {
        testClass(id).ifPresent(c -> finished.put(c, "skipped: " + reason));
    }

    @Override
    public synchronized void executionFinished(TestIdentifier id, TestExecutionResult result) {
        Optional<String> c = classOf(id);
        if (c.isEmpty()) {
            return;
        }
        int[] counts = testsAndFailures.computeIfAbsent(c.get(), k -> new int[2]);
        if (id.isTest()) {
            counts[0]++;
            counts[1] += result.getStatus() == TestExecutionResult.Status.FAILED ? 1 : 0;
        } else if (testClass(id).isPresent()) {
            double total = seconds.merge(c.get(), (System.nanoTime() - started.remove(id.getUniqueId())) / 1e9, Double::sum);
            String why = result.getThrowable().map(Throwable::getMessage).orElse("");
            // A class of its own fails or is aborted (no boot image) before or after its tests: say so.
            String whole = switch (result.getStatus()) {
                case SUCCESSFUL -> "";
                case ABORTED -> "; the class was aborted: " + why;
                case FAILED -> "; the class failed: " + why;
            };
            finished.put(c.get(), String.format("%7.1f s  %d tests, %d failed%s", total, counts[0], counts[1], whole));
        }
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

    /** The class, when {@code id} is a test class. */
    private static Optional<String> testClass(TestIdentifier id) {
        return id.getSource().filter(ClassSource.class::isInstance).map(s -> ((ClassSource) s).getClassName());
    }

    /** The test class a class or a test method belongs to. */
    private static Optional<String> classOf(TestIdentifier id) {
        return id.getSource().flatMap(E2eSummary::className);
    }

    private static Optional<String> className(TestSource source) {
        return switch (source) {
            case ClassSource c -> Optional.of(c.getClassName());
            case MethodSource m -> Optional.of(m.getClassName());
            default -> Optional.empty();
        };
    }
}
