package hg.bench;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One row of results.json. {@code hyperGen}, {@code min} and {@code max} are hyper-gen's median,
 * fastest and slowest run; {@code peer} is the peer's median. Null values mean "not measured",
 * and then {@code why} says why. {@code extra} holds figure-specific fields written after the
 * common ones (strings, numbers, booleans), e.g. a "note" on what exactly was measured.
 */
public record Result(String figure, String unit, Double hyperGen, Double peer, String peerName, String goal,
                     int runs, Double min, Double max, String why, Map<String, Object> extra) {

    public Result {
        extra = extra == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(extra));
    }

    public Result(String figure, String unit, Double hyperGen, Double peer, String peerName, String goal,
                  int runs, Double min, Double max, String why) {
        this(figure, unit, hyperGen, peer, peerName, goal, runs, min, max, why, Map.of());
    }

    /** A measured row: hyper-gen's runs summarised by {@code hg}, the peer's median. */
    public static Result measured(String figure, String unit, Stats hg, double peer, String peerName, String goal,
                                  Map<String, Object> extra) {
        return new Result(figure, unit, hg.median(), peer, peerName, goal, hg.runs(), hg.min(), hg.max(), null, extra);
    }

    public static Result unmeasured(String figure, String unit, String peerName, String goal, String why) {
        return new Result(figure, unit, null, null, peerName, goal, 0, null, null, why);
    }

    /** hyper-gen / peer, or null when either is missing. */
    public Double ratio() {
        return hyperGen == null || peer == null || peer == 0 ? null : hyperGen / peer;
    }

    /** The "note" extra field, or null. */
    public String note() {
        return extra.get("note") instanceof String s ? s : null;
    }
}
