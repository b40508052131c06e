package hg.kvm.sys;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The deny-list filter, run by a small classic-BPF interpreter over (architecture, number) pairs. */
class SeccompFilterTest {
    private static final int AUDIT_ARCH_I386 = 0x40000003;
    private static final int DENY = Seccomp.RET_ERRNO | Seccomp.EPERM;

    /** Runs {@code program} on a seccomp_data with {@code nr} and {@code arch}, as the kernel's checker would. */
    static int run(List<Seccomp.Insn> program, int arch, int nr) {
        return runCounting(program, arch, nr)[0];
    }

    /** The action and how many instructions ran to it. */
    static int[] runCounting(List<Seccomp.Insn> program, int arch, int nr) {
        int acc = 0;
        int steps = 0;
        for (int pc = 0; pc < program.size(); pc++) {
            steps++;
            Seccomp.Insn i = program.get(pc);
            assertTrue(i.jt() >= 0 && i.jt() <= 255 && i.jf() >= 0 && i.jf() <= 255, "offsets fit a byte: " + i);
            switch (i.code()) {
                case Seccomp.LD_W_ABS -> acc = switch (i.k()) {
                    case Seccomp.DATA_NR -> nr;
                    case Seccomp.DATA_ARCH -> arch;
                    default -> throw new AssertionError("loads an unknown offset: " + i);
                };
                case Seccomp.JEQ_K -> pc += acc == i.k() ? i.jt() : i.jf();
                case Seccomp.JGE_K -> pc += Integer.compareUnsigned(acc, i.k()) >= 0 ? i.jt() : i.jf();
                case Seccomp.RET_K -> {
                    return new int[] {i.k(), steps};
                }
                default -> throw new AssertionError("unknown instruction " + i);
            }
            assertTrue(pc + 1 < program.size(), "jumps stay inside the program");
        }
        throw new AssertionError("ran off the end");
    }

    @Test
    void refusesTheListedCallsAndAllowsTheRest() {
        List<Integer> denied = List.copyOf(Seccomp.DENIED.values());
        List<Seccomp.Insn> p = Seccomp.denyFilter(denied);
        for (int nr = 0; nr < 600; nr++) {
            int expected = denied.contains(nr) ? DENY : Seccomp.RET_ALLOW;
            int[] r = runCounting(p, Seccomp.AUDIT_ARCH_X86_64, nr);
            assertEquals(expected, r[0], "syscall " + nr);
            // every call the VMM makes runs the filter: a search, not a scan of the list
            assertTrue(r[1] <= 14, "syscall " + nr + " took " + r[1] + " instructions");
        }
        // read, mmap, ioctl, futex, clone, epoll_wait: what a VMM lives on.
        for (int nr : new int[] {0, 9, 16, 202, 56, 232}) {
            assertEquals(Seccomp.RET_ALLOW, run(p, Seccomp.AUDIT_ARCH_X86_64, nr));
        }
        assertEquals(DENY, run(p, Seccomp.AUDIT_ARCH_X86_64, 59), "execve");
    }

    /** Any list, any order, repeats: exactly the listed numbers are refused. */
    @Test
    void randomListsRefuseExactlyTheirNumbers() {
        java.util.Random random = new java.util.Random(17);
        for (int round = 0; round < 300; round++) {
            List<Integer> denied = new java.util.ArrayList<>();
            int n = random.nextInt(120);
            for (int i = 0; i < n; i++) {
                denied.add(random.nextInt(460));
            }
            List<Seccomp.Insn> p = Seccomp.denyFilter(denied);
            for (int nr = 0; nr < 470; nr++) {
                assertEquals(denied.contains(nr) ? DENY : Seccomp.RET_ALLOW, run(p, Seccomp.AUDIT_ARCH_X86_64, nr),
                        "list " + denied + ", syscall " + nr);
            }
        }
    }

    @Test
    void refusesX32AndOtherArchitecturesWhole() {
        List<Seccomp.Insn> p = Seccomp.denyFilter(List.of(59));
        assertEquals(DENY, run(p, Seccomp.AUDIT_ARCH_X86_64, Seccomp.X32_SYSCALL_BIT));
        assertEquals(DENY, run(p, Seccomp.AUDIT_ARCH_X86_64, Seccomp.X32_SYSCALL_BIT | 1));
        assertEquals(DENY, run(p, Seccomp.AUDIT_ARCH_X86_64, -1));
        assertEquals(DENY, run(p, AUDIT_ARCH_I386, 3), "i386 read is refused: its numbers mean other calls");
        assertEquals(Seccomp.RET_ALLOW, run(p, Seccomp.AUDIT_ARCH_X86_64, 3));
    }

    @Test
    void isAPureFunctionOfTheList() {
        assertEquals(Seccomp.denyFilter(List.of(1, 2, 3)), Seccomp.denyFilter(List.of(1, 2, 3)));
        List<Seccomp.Insn> empty = Seccomp.denyFilter(List.of());
        assertEquals(Seccomp.RET_ALLOW, run(empty, Seccomp.AUDIT_ARCH_X86_64, 59));
        assertThrows(IllegalArgumentException.class,
                () -> Seccomp.denyFilter(java.util.stream.IntStream.range(0, 300).boxed().toList()));
    }

    @Test
    void landlockRightsFollowTheAbi() {
        assertEquals(0, Landlock.handledFs(0));
        assertEquals((1L << 13) - 1, Landlock.handledFs(1));
        assertEquals((1L << 14) - 1, Landlock.handledFs(2), "6.1: REFER, no TRUNCATE");
        assertEquals((1L << 15) - 1, Landlock.handledFs(4));
        assertEquals((1L << 16) - 1, Landlock.handledFs(7));
        long abi2 = Landlock.handledFs(2);
        // A file gets only file rights; a read-only root only reading and executing.
        assertEquals(Landlock.EXECUTE | Landlock.READ_FILE, Landlock.rights(abi2, false, false));
        assertEquals(Landlock.EXECUTE | Landlock.READ_FILE | Landlock.READ_DIR, Landlock.rights(abi2, false, true));
        assertEquals(Landlock.EXECUTE | Landlock.READ_FILE | Landlock.WRITE_FILE, Landlock.rights(abi2, true, false));
        assertEquals(abi2, Landlock.rights(abi2, true, true));
        assertEquals(0, Landlock.rights(Landlock.handledFs(7), true, false) & ~Landlock.FILE_RIGHTS);
    }
}
