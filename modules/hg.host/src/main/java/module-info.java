/**
 * The host's rules, below every front end: the catalog of guest kernels and images, and the VMs with the
 * checks and refusal lines the shell, the API and the Firecracker front end all share.
 */
module hg.host {
    requires transitive hg.vmm;

    exports hg.host;
}
