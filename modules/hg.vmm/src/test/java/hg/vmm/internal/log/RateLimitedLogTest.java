package hg.vmm.internal.log;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static java.lang.System.Logger.Level.WARNING;
import static org.junit.jupiter.api.Assertions.assertEquals;

class RateLimitedLogTest {

    static final Duration WINDOW = Duration.ofSeconds(60);

    final List<String> lines = new ArrayList<>();
    long now = 1_000;
    final RateLimitedLog log = new RateLimitedLog((level, text) -> lines.add(text), 3, WINDOW, () -> now);

    void flood(String kind, int n) {
        for (int i = 0; i < n; i++) {
            log.log(kind, WARNING, kind + " " + i);
        }
    }

    @Test
    void theFirstLinesOfAWindowPassAndTheRestAreCounted() {
        flood("blk", 10);
        assertEquals(List.of("blk 0", "blk 1", "blk 2"), lines);
        assertEquals(7, log.suppressed());
    }

    @Test
    void flushSaysWhatEachKindStillHasSuppressedOnce() {
        flood("blk", 5);
        flood("net", 2);
        log.flush();
        assertEquals(List.of("blk 0", "blk 1", "blk 2", "blk: 2 more suppressed"), lines.stream()
                .filter(l -> l.startsWith("blk")).toList());
        assertEquals(1, lines.stream().filter(l -> l.contains("more suppressed")).count(), "net had nothing suppressed");
        log.flush();
        assertEquals(1, lines.stream().filter(l -> l.contains("more suppressed")).count(), "said once");
    }

    @Test
    void eachKindHasItsOwnBudget() {
        flood("blk", 10);
        flood("net", 2);
        assertEquals(List.of("blk 0", "blk 1", "blk 2", "net 0", "net 1"), lines);
        assertEquals(7, log.suppressed());
    }

    @Test
    void theFirstLineOfTheNextWindowSaysHowManyWereSuppressed() {
        flood("blk", 10);
        now += WINDOW.toNanos() - 1;
        flood("blk", 1);
        assertEquals(8, log.suppressed(), "still the same window");
        now += 1;
        lines.clear();
        flood("blk", 4);
        assertEquals(List.of("blk: 8 more suppressed", "blk 0", "blk 1", "blk 2"), lines);
        assertEquals(9, log.suppressed(), "the count of every line suppressed so far");
    }

    @Test
    void aWindowWithoutSuppressedLinesEndsSilently() {
        flood("blk", 2);
        now += WINDOW.toNanos();
        flood("blk", 3);
        assertEquals(List.of("blk 0", "blk 1", "blk 0", "blk 1", "blk 2"), lines);
        assertEquals(0, log.suppressed());
    }
}
