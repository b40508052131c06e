package hg.vmm;

/** The life of a VM as its owner sees it. */
public sealed interface VmState {

    /** vCPUs are running (or runnable). */
    record Running() implements VmState {
        @Override
        public String toString() {
            return "running";
        }
    }

    /** vCPUs are stopped until resumed; devices and memory are kept as they are. */
    record Paused() implements VmState {
        @Override
        public String toString() {
            return "paused";
        }
    }

    /** The VM stopped for good; {@code reason} says why. Its resources may still be held until destroyed. */
    record Stopped(StopReason reason) implements VmState {
        @Override
        public String toString() {
            return "stopped (" + reason + ")";
        }
    }
}
