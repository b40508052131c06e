/** A VM and its lifecycle: vCPU threads, the I/O bus, devices and the per-VM I/O loop. */
module hg.vmm {
    requires transitive hg.kvm;
    requires transitive hg.boot;
    requires hg.ninep;

    exports hg.vmm;
}
