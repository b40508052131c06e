package hg.imagetools;

/** Told how far a long build has come; called often, so implementations throttle their output. */
@FunctionalInterface
public interface Progress {
    Progress NONE = (phase, done, total) -> {};

    void update(String phase, long done, long total);
}
