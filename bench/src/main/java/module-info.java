/** The hyper-gen benchmark: each figure measured with hyper-gen and its peer in one run. */
module hg.bench {
    requires hg.kvm;
}
