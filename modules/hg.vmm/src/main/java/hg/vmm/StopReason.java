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

    /** KVM reported a shutdown of a vCPU: a triple fault or an explicit shutdown. */
    record Shutdown(int vcpu) implements StopReason {
        @Override
        public String toString() {
            return "shutdown/triple fault on vCPU " + vcpu;
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
