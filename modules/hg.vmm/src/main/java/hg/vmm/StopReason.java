package hg.vmm;

/** Why a VM stopped. */
public sealed interface StopReason {

    /** The guest asked for a reset (i8042 pulse, triple fault handled as reboot): Linux's reboot. */
    record GuestReset() implements StopReason {
        @Override
        public String toString() {
            return "guest reset";
        }
    }

    /**
     * KVM reported a shutdown of a vCPU: a triple fault or an explicit shutdown.
     *
     * @param state the vCPU's registers at the exit (rip, rsp, control registers, a pending
     *              exception), empty when they could not be read: what tells a guest's own
     *              crash from a fault the host caused
     */
    record Shutdown(int vcpu, String state) implements StopReason {
        @Override
        public String toString() {
            return "shutdown/triple fault on vCPU " + vcpu + (state.isEmpty() ? "" : " (" + state + ")");
        }
    }

    /** The guest wrote {@code code} to the debug exit port (used by test guests). */
    record DebugExit(int code) implements StopReason {
        @Override
        public String toString() {
            return "debug exit code " + code;
        }
    }

    /** The VMM could not go on: a KVM error, an exit it cannot handle, an internal bug. */
    record InternalError(String message) implements StopReason {
        @Override
        public String toString() {
            return "internal error: " + message;
        }
    }

    /** The VM was destroyed by its owner. */
    record Destroyed() implements StopReason {
        @Override
        public String toString() {
            return "destroyed";
        }
    }
}
