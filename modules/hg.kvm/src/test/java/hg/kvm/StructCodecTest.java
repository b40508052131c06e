package hg.kvm;

import hg.kvm.internal.Layouts;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The value records survive a trip through their C structs unchanged. */
class StructCodecTest {

    @Property(tries = 200)
    void regsRoundTrip(@ForAll long a, @ForAll long b, @ForAll long rip, @ForAll long rflags) {
        Regs r = Regs.builder().rax(a).r15(b).rsp(a ^ b).rip(rip).rflags(rflags).build();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(Layouts.KVM_REGS);
            Structs.writeRegs(s, r);
            assertEquals(r, Structs.readRegs(s));
            assertEquals(rip, s.get(java.lang.foreign.ValueLayout.JAVA_LONG, Layouts.offset(Layouts.KVM_REGS, "rip")));
        }
    }

    @Provide
    Arbitrary<Segment> segments() {
        return Combinators.combine(Arbitraries.longs(), Arbitraries.integers(), Arbitraries.integers().between(0, 0xffff),
                Arbitraries.integers().between(0, 15), Arbitraries.integers().between(0, 3),
                Arbitraries.integers().between(0, 127))
                .as((base, limit, sel, type, dpl, bits) -> new Segment(base, limit, sel, type, (bits & 1) != 0, dpl,
                        (bits & 2) != 0, (bits & 4) != 0, (bits & 8) != 0, (bits & 16) != 0, (bits & 32) != 0,
                        (bits & 64) != 0));
    }

    @Property(tries = 200)
    void sregsRoundTrip(@ForAll("segments") Segment cs, @ForAll("segments") Segment tr, @ForAll long cr3,
                        @ForAll long efer) {
        Sregs s = new Sregs(cs, tr, cs, tr, cs, tr, tr, cs, new DescriptorTable(cr3, 0xffff),
                new DescriptorTable(efer, 0), 1, 2, cr3, 4, 5, efer, 7, new long[] {1, 2, 3, cr3});
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = arena.allocate(Layouts.KVM_SREGS);
            Structs.writeSregs(m, s);
            assertEquals(s, Structs.readSregs(m));
        }
    }

    @Property(tries = 200)
    void cpuidEntryRoundTrip(@ForAll int function, @ForAll int index, @ForAll int eax, @ForAll int edx) {
        CpuidEntry e = new CpuidEntry(function, index, 1, eax, ~eax, edx ^ eax, edx);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = arena.allocate(Layouts.KVM_CPUID_ENTRY2.byteSize() * 2, 8);
            long at = Layouts.KVM_CPUID_ENTRY2.byteSize();
            Structs.writeCpuidEntry(m, at, e);
            assertEquals(e, Structs.readCpuidEntry(m, at));
        }
    }

    @Property(tries = 100)
    void vcpuEventsRoundTrip(@ForAll boolean injected, @ForAll byte nr, @ForAll int errorCode, @ForAll long payload) {
        VcpuEvents e = new VcpuEvents(new VcpuEvents.Exception(injected, nr & 0xff, !injected, injected, errorCode),
                new VcpuEvents.Interrupt(!injected, (nr + 1) & 0xff, injected, 1),
                new VcpuEvents.Nmi(injected, !injected, injected), errorCode, 5,
                new VcpuEvents.Smi(injected, injected, !injected, injected), !injected, injected, payload);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment m = arena.allocate(Layouts.KVM_VCPU_EVENTS);
            Structs.writeEvents(m, e);
            assertEquals(e, Structs.readEvents(m));
        }
    }
}
