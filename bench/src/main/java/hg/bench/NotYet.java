package hg.bench;

/** A figure this bench cannot measure yet: present in the results with its reason, never a number. */
record NotYet(String name, String unit, String peerName, String goal, String why) implements Figure {
    @Override
    public Result measure(Options options) {
        return Result.unmeasured(name, unit, peerName, goal, why);
    }
}
