package hg.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Optional;
import org.junit.jupiter.api.Test;

/** What is and what is not the rig's own fault, from console text alone. */
class RigSignatureTest {
    private static final String REGISTERS_RESET = "[vm 3 stopped: the guest shut down (triple fault or shutdown on"
            + " vCPU 0, registers lost: the host's KVM reset the vCPU)]";

    /** The hs_err header a JVM prints on its console when it dies, here at {@code frame} of {@code signal}. */
    private static String hsErr(String signal, String frame) {
        return """
                init: starting the shell
                #
                # A fatal error has been detected by the Java Runtime Environment:
                #
                #  %s (0x4) at pc=0x00007f3b2d0a6f40, pid=412, tid=418
                #
                # JRE version: OpenJDK Runtime Environment Temurin-25+36 (25.0+36) (build 25+36-LTS)
                # Java VM: OpenJDK 64-Bit Server VM Temurin-25+36 (25+36-LTS, mixed mode, tiered, compressed oops, serial gc, linux-amd64)
                # Problematic frame:
                # %s
                #
                hg-selftest kvm: rc=134
                """.formatted(signal, frame);
    }

    private static final String JDK_FRAME = "J 1234 c1 java.util.HashMap.putVal(ILjava/lang/Object;Ljava/lang/Object;ZZ)"
            + "Ljava/lang/Object; java.base@25 (300 bytes) @ 0x00007f3b2d0a6f40 [0x00007f3b2d0a6f20+0x0000000000000020]";

    @Test
    void theGuestStoppedWithItsRegistersResetByTheNestsKvmIsTheRigs() {
        assertEquals(Optional.of(new RigSignature.GuestLostRegistersReset(REGISTERS_RESET)), RigSignature.classify(REGISTERS_RESET));
    }

    @Test
    void theNestsJvmKilledInJitCompiledJdkCodeIsTheRigs() {
        assertEquals(Optional.of(new RigSignature.NestJvmJitFault("SIGILL in " + JDK_FRAME.substring(0, JDK_FRAME.indexOf(" (300")))),
                RigSignature.classify(hsErr("SIGILL", JDK_FRAME)));
        assertEquals("NestJvmJitFault", RigSignature.classify(hsErr("SIGSEGV", JDK_FRAME.replace(" c1 ", " c2 "))).orElseThrow().name());
    }

    @Test
    void aGuestKernelPanicIsNot() {
        assertEquals(Optional.empty(), RigSignature.classify(
                "Kernel panic - not syncing: Requested init /nonexistent failed (error -2)."));
    }

    @Test
    void aTripleFaultWhoseRegistersWereKeptIsNot() {
        assertEquals(Optional.empty(), RigSignature.classify("[vm 2 stopped: the guest shut down (triple fault or shutdown"
                + " on vCPU 1, rip 0xffffffff81000000 rsp 0x0 rflags 0x2 cr0 0x80050033 cr2 0x0 cr3 0x1000 cr4 0x20 efer 0xd01)]"));
    }

    @Test
    void otherStopsAreNot() {
        assertEquals(Optional.empty(), RigSignature.classify("[vm 4 stopped: the guest rebooted (reset)]"));
        assertEquals(Optional.empty(), RigSignature.classify("[vm 5 stopped: VMM error: vCPU 0: KVM internal error, suberror 1"
                + " (instruction emulation failed) at rip 0xffffffff8100abcd]"));
    }

    @Test
    void aWrongAnswerOrATimeoutIsNot() {
        assertEquals(Optional.empty(), RigSignature.classify("'echo $((6*7))' in the guest exited 1:\n41\n"));
        assertEquals(Optional.empty(), RigSignature.classify("timed out after PT3M waiting for /\\Qhyper-gen-guest:/# \\E/ on serial;"
                + " last output:\n[    0.912345] Run /sbin/init as init process\n"));
    }

    @Test
    void aJvmCrashOutsideJitCompiledJdkCodeIsNot() {
        // Our own code, compiled or native, and the JVM itself are ours to fix.
        assertEquals(Optional.empty(), RigSignature.classify(hsErr("SIGSEGV",
                "J 987 c1 hg.vmm.internal.VcpuLoop.run()V hg.vmm@0.1.0-SNAPSHOT (120 bytes) @ 0x00007f3b2d0a6f40")));
        assertEquals(Optional.empty(), RigSignature.classify(hsErr("SIGSEGV", "C  [libc.so.6+0x9d2a1]  __memmove_avx_unaligned_erms+0x61")));
        assertEquals(Optional.empty(), RigSignature.classify(hsErr("SIGSEGV", "V  [libjvm.so+0x7c1f2e]  G1ParScanThreadState::trim_queue()+0x3e")));
        // Another signal in JIT-compiled JDK code (an abort, say) is not the emulated CPU's fault either.
        assertEquals(Optional.empty(), RigSignature.classify(hsErr("SIGBUS", JDK_FRAME)));
    }
}
