/** The hyper-gen benchmark: each figure measured with hyper-gen and its peer in one run. */
module hg.bench {
    requires hg.kvm;
    requires hg.vmm;
    requires hg.imagetools;
    requires hg.api;
    requires jdk.management; // per-thread CPU time and allocation counters
}
