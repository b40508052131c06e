package hg.e2e;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The rig's own faults, as they show on the consoles: the only failures a test is run again for
 * (by {@link RigRetry}). The list is closed on purpose: a failure that is not exactly one of these
 * (a kernel panic, a wrong answer, a hang, a refused command) is the product's and fails its test.
 */
sealed interface RigSignature {

    /** The signature's name in the test log. */
    String name();

    /** The console's words that showed it, for the test log. */
    String detail();

    /**
     * A guest of the nest stopped at a shutdown (triple fault) whose registers the nest's KVM had
     * already reset: KVM on AMD puts the vCPU through INIT, so nothing says where the guest was.
     * Guests under the rig's emulated SVM ended so now and then, QEMU's own guests included.
     */
    record GuestLostRegistersReset(String detail) implements RigSignature {
        private static final Pattern SEEN = Pattern.compile("\\[vm \\d+ stopped: the guest shut down \\(triple fault or"
                + " shutdown on vCPU \\d+, registers lost: the host's KVM reset the vCPU\\)\\]");

        @Override
        public String name() {
            return "GuestLostRegistersReset";
        }
    }

    /**
     * The nest's JVM killed by SIGILL or SIGSEGV at a JDK method its own JIT compiled (the hs_err
     * header on the console): the rig's emulated CPU running compiled code wrongly, not our code.
     */
    record NestJvmJitFault(String detail) implements RigSignature {
        private static final Pattern SEEN = Pattern.compile("A fatal error has been detected by the Java Runtime"
                + " Environment:\\s+#\\s+#\\s+(SIG(?:ILL|SEGV)) .*?# Problematic frame:\\s+# (J \\d+ c[12] \\S+ java\\.base@\\S+)",
                Pattern.DOTALL);

        @Override
        public String name() {
            return "NestJvmJitFault";
        }
    }

    /**
     * Which rig signature {@code seen} shows, if any: {@code seen} is what ended a step on a console
     * (a guest console's stop line, or the nest's serial output when its JVM died).
     */
    static Optional<RigSignature> classify(String seen) {
        Matcher loss = GuestLostRegistersReset.SEEN.matcher(seen);
        if (loss.find()) {
            return Optional.of(new GuestLostRegistersReset(loss.group()));
        }
        Matcher jit = NestJvmJitFault.SEEN.matcher(seen);
        if (jit.find()) {
            return Optional.of(new NestJvmJitFault(jit.group(1) + " in " + jit.group(2)));
        }
        return Optional.empty();
    }
}
