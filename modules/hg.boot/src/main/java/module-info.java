/** Guest kernel loaders and the x86 boot layout: pure functions of bytes into guest memory. */
module hg.boot {
    requires transitive hg.kvm;
    exports hg.boot;
}
