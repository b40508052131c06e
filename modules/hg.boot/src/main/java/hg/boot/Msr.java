package hg.boot;

/** A model-specific register to set before the vCPU first runs. */
public record Msr(int index, long value) {
}
