/** Typed access to /dev/kvm and the few libc calls a VMM needs, all through the FFM API. */
module hg.kvm {
    exports hg.kvm;
    exports hg.kvm.sys;
    exports hg.kvm.net;
}
