package hg.bench;

/**
 * One row of results.json. {@code hyperGen}, {@code min} and {@code max} are hyper-gen's median,
 * fastest and slowest run; {@code peer} is the peer's median. Null values mean "not measured",
 * and then {@code why} says why.
 */
public record Result(String figure, String unit, Double hyperGen, Double peer, String peerName, String goal,
                     int runs, Double min, Double max, String why) {

    public static Result unmeasured(String figure, String unit, String peerName, String goal, String why) {
        return new Result(figure, unit, null, null, peerName, goal, 0, null, null, why);
    }

    /** hyper-gen / peer, or null when either is missing. */
    public Double ratio() {
        return hyperGen == null || peer == null || peer == 0 ? null : hyperGen / peer;
    }
}
