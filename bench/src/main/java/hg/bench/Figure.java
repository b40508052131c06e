package hg.bench;

/** One benchmark figure: measures hyper-gen and its peer in the same run. */
public interface Figure {
    /** The figure's name in results.json, e.g. "exit_round_trip". */
    String name();

    /** Measures; a figure that cannot be measured here returns {@link Result#unmeasured}. */
    Result measure(Options options) throws Exception;
}
