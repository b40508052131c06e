/** The hyper-gen shell: the catalog of kernels and images and the commands that manage VMs. */
module hg.shell {
    requires hg.vmm;
    requires org.jline.terminal;
    requires org.jline.reader;
}
