package hg.vmm;

/**
 * One step of making a VM and the CPU time the creating thread spent in it, in the order taken:
 * where a create's cost goes (see {@link Vm#createSteps()}).
 */
public record CreateStep(String name, long cpuNanos) {
}
