/** The hyper-gen benchmark: each figure measured with hyper-gen and its peer in one run. */
module hg.bench {
    requires hg.kvm;
    requires jdk.management; // per-thread allocation counter: the exit loop must not allocate
}
