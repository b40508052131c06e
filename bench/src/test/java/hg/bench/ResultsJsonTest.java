package hg.bench;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ResultsJsonTest {

    @Test
    void measuredAndUnmeasuredFiguresInTheAgreedFormat() {
        Result measured = new Result("exit_round_trip", "us/exit", 7.5, 7.25, "C KVM runner", "<= 1.1", 5, 7.0, 9.0,
                null);
        Result unmeasured = Result.unmeasured("boot_to_init", "s", "QEMU microvm", "<= 0.8", "needs \"nest\"\n");
        assertEquals("""
                [
                  {"figure": "exit_round_trip", "unit": "us/exit", "hyper_gen": 7.5000, "peer": 7.2500, \
                "peer_name": "C KVM runner", "ratio": 1.0345, "goal": "<= 1.1", "runs": 5, "min": 7.0000, "max": 9.0000},
                  {"figure": "boot_to_init", "unit": "s", "hyper_gen": null, "peer": null, \
                "peer_name": "QEMU microvm", "ratio": null, "goal": "<= 0.8", "runs": 0, "min": null, "max": null, \
                "why": "needs \\"nest\\"\\n"}
                ]
                """, ResultsJson.render(List.of(measured, unmeasured)));
    }

    @Test
    void extraFieldsFollowTheCommonOnes() {
        Map<String, Object> extra = new LinkedHashMap<>();
        extra.put("byte_identical", true);
        extra.put("wall_ms", 2.5);
        extra.put("note", "a \"note\"");
        Result r = Result.measured("rootfs_build", "s", Stats.of(new double[] {1, 2, 3}), 2.0, "mke2fs", "<= 1.5", extra);
        assertEquals("""
                [
                  {"figure": "rootfs_build", "unit": "s", "hyper_gen": 2.0000, "peer": 2.0000, "peer_name": "mke2fs", \
                "ratio": 1.0000, "goal": "<= 1.5", "runs": 3, "min": 1.0000, "max": 3.0000, "byte_identical": true, \
                "wall_ms": 2.5000, "note": "a \\"note\\""}
                ]
                """, ResultsJson.render(List.of(r)));
    }

    @Test
    void statsTakeTheMedian() {
        Stats s = Stats.of(new double[] {5, 1, 3, 100, 2});
        assertEquals(3, s.median());
        assertEquals(1, s.min());
        assertEquals(100, s.max());
        assertEquals(2.5, Stats.of(new double[] {1, 2, 3, 4}).median());
    }
}
