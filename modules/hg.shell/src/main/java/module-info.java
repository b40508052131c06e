/** The hyper-gen shell: the catalog of kernels and images and the commands that manage VMs. */
module hg.shell {
    requires hg.api;
    requires hg.boot;
    requires hg.kvm;
    requires org.jline.terminal;
    requires org.jline.reader;
    // JLine finds its terminal providers by name at run time; requiring the FFM one puts it into every
    // module graph, a jlink image included (jlink does not bind services on its own).
    requires org.jline.terminal.ffm;

    exports hg.shell;
}
