package hg.kvm.internal;

import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.util.LinkedHashMap;
import java.util.Map;

import static java.lang.foreign.MemoryLayout.paddingLayout;
import static java.lang.foreign.MemoryLayout.sequenceLayout;
import static java.lang.foreign.MemoryLayout.structLayout;
import static java.lang.foreign.MemoryLayout.unionLayout;

/**
 * The KVM structs, written by hand from linux/kvm.h and asm/kvm.h (x86-64). Member names are
 * the C names, so a test can generate a C program that checks every offset and size with gcc.
 */
public final class Layouts {
    private Layouts() {}

    private static final ValueLayout.OfByte U8 = ValueLayout.JAVA_BYTE;
    private static final ValueLayout.OfShort U16 = ValueLayout.JAVA_SHORT;
    private static final ValueLayout.OfInt U32 = ValueLayout.JAVA_INT;
    private static final ValueLayout.OfLong U64 = ValueLayout.JAVA_LONG;

    private static MemoryLayout u8(String n) { return U8.withName(n); }
    private static MemoryLayout u16(String n) { return U16.withName(n); }
    private static MemoryLayout u32(String n) { return U32.withName(n); }
    private static MemoryLayout u64(String n) { return U64.withName(n); }
    private static MemoryLayout bytes(String n, int count) { return sequenceLayout(count, U8).withName(n); }

    public static final StructLayout KVM_REGS = structLayout(
            u64("rax"), u64("rbx"), u64("rcx"), u64("rdx"), u64("rsi"), u64("rdi"), u64("rsp"), u64("rbp"),
            u64("r8"), u64("r9"), u64("r10"), u64("r11"), u64("r12"), u64("r13"), u64("r14"), u64("r15"),
            u64("rip"), u64("rflags")).withName("kvm_regs");

    public static final StructLayout KVM_SEGMENT = structLayout(
            u64("base"), u32("limit"), u16("selector"), u8("type"), u8("present"), u8("dpl"), u8("db"),
            u8("s"), u8("l"), u8("g"), u8("avl"), u8("unusable"), u8("padding")).withName("kvm_segment");

    public static final StructLayout KVM_DTABLE = structLayout(
            u64("base"), u16("limit"), sequenceLayout(3, U16).withName("padding")).withName("kvm_dtable");

    public static final StructLayout KVM_SREGS = structLayout(
            KVM_SEGMENT.withName("cs"), KVM_SEGMENT.withName("ds"), KVM_SEGMENT.withName("es"),
            KVM_SEGMENT.withName("fs"), KVM_SEGMENT.withName("gs"), KVM_SEGMENT.withName("ss"),
            KVM_SEGMENT.withName("tr"), KVM_SEGMENT.withName("ldt"),
            KVM_DTABLE.withName("gdt"), KVM_DTABLE.withName("idt"),
            u64("cr0"), u64("cr2"), u64("cr3"), u64("cr4"), u64("cr8"), u64("efer"), u64("apic_base"),
            sequenceLayout(4, U64).withName("interrupt_bitmap")).withName("kvm_sregs");

    public static final StructLayout KVM_FPU = structLayout(
            sequenceLayout(8, sequenceLayout(16, U8)).withName("fpr"),
            u16("fcw"), u16("fsw"), u8("ftwx"), u8("pad1"), u16("last_opcode"),
            u64("last_ip"), u64("last_dp"),
            sequenceLayout(16, sequenceLayout(16, U8)).withName("xmm"),
            u32("mxcsr"), u32("pad2")).withName("kvm_fpu");

    public static final StructLayout KVM_MSR_ENTRY = structLayout(
            u32("index"), u32("reserved"), u64("data")).withName("kvm_msr_entry");

    /** Header of kvm_msrs; {@code entries[nmsrs]} follow. */
    public static final StructLayout KVM_MSRS = structLayout(u32("nmsrs"), u32("pad")).withName("kvm_msrs");

    /** Header of kvm_msr_list; {@code __u32 indices[nmsrs]} follow. */
    public static final StructLayout KVM_MSR_LIST = structLayout(u32("nmsrs")).withName("kvm_msr_list");

    public static final StructLayout KVM_CPUID_ENTRY2 = structLayout(
            u32("function"), u32("index"), u32("flags"), u32("eax"), u32("ebx"), u32("ecx"), u32("edx"),
            sequenceLayout(3, U32).withName("padding")).withName("kvm_cpuid_entry2");

    /** Header of kvm_cpuid2; {@code entries[nent]} follow. */
    public static final StructLayout KVM_CPUID2 = structLayout(u32("nent"), u32("padding")).withName("kvm_cpuid2");

    public static final StructLayout KVM_LAPIC_STATE = structLayout(bytes("regs", 1024)).withName("kvm_lapic_state");

    public static final StructLayout KVM_MP_STATE = structLayout(u32("mp_state")).withName("kvm_mp_state");

    public static final StructLayout KVM_XCR = structLayout(
            u32("xcr"), u32("reserved"), u64("value")).withName("kvm_xcr");

    public static final StructLayout KVM_XCRS = structLayout(
            u32("nr_xcrs"), u32("flags"), sequenceLayout(16, KVM_XCR).withName("xcrs"),
            sequenceLayout(16, U64).withName("padding")).withName("kvm_xcrs");

    public static final StructLayout KVM_VCPU_EVENTS = structLayout(
            structLayout(u8("injected"), u8("nr"), u8("has_error_code"), u8("pending"), u32("error_code"))
                    .withName("exception"),
            structLayout(u8("injected"), u8("nr"), u8("soft"), u8("shadow")).withName("interrupt"),
            structLayout(u8("injected"), u8("pending"), u8("masked"), u8("pad")).withName("nmi"),
            u32("sipi_vector"), u32("flags"),
            structLayout(u8("smm"), u8("pending"), u8("smm_inside_nmi"), u8("latched_init")).withName("smi"),
            structLayout(u8("pending")).withName("triple_fault"),
            bytes("reserved", 26), u8("exception_has_payload"), u64("exception_payload"))
            .withName("kvm_vcpu_events");

    public static final StructLayout KVM_CLOCK_DATA = structLayout(
            u64("clock"), u32("flags"), u32("pad0"), u64("realtime"), u64("host_tsc"),
            sequenceLayout(4, U32).withName("pad")).withName("kvm_clock_data");

    public static final StructLayout KVM_DEBUGREGS = structLayout(
            sequenceLayout(4, U64).withName("db"), u64("dr6"), u64("dr7"), u64("flags"),
            sequenceLayout(9, U64).withName("reserved")).withName("kvm_debugregs");

    /** The fixed part of kvm_xsave; with KVM_CAP_XSAVE2 the kernel may use a longer buffer. */
    public static final StructLayout KVM_XSAVE = structLayout(
            sequenceLayout(1024, U32).withName("region")).withName("kvm_xsave");

    /** The chip union is kept opaque: its 512 bytes go to and from the caller as they are. */
    public static final StructLayout KVM_IRQCHIP = structLayout(
            u32("chip_id"), u32("pad"), unionLayout(bytes("dummy", 512)).withName("chip")).withName("kvm_irqchip");

    public static final StructLayout KVM_PIT_CHANNEL_STATE = structLayout(
            u32("count"), u16("latched_count"), u8("count_latched"), u8("status_latched"), u8("status"),
            u8("read_state"), u8("write_state"), u8("write_latch"), u8("rw_mode"), u8("mode"), u8("bcd"),
            u8("gate"), u64("count_load_time")).withName("kvm_pit_channel_state");

    public static final StructLayout KVM_PIT_STATE2 = structLayout(
            sequenceLayout(3, KVM_PIT_CHANNEL_STATE).withName("channels"), u32("flags"),
            sequenceLayout(9, U32).withName("reserved")).withName("kvm_pit_state2");

    public static final StructLayout KVM_USERSPACE_MEMORY_REGION = structLayout(
            u32("slot"), u32("flags"), u64("guest_phys_addr"), u64("memory_size"), u64("userspace_addr"))
            .withName("kvm_userspace_memory_region");

    public static final StructLayout KVM_IRQ_LEVEL = structLayout(
            unionLayout(u32("irq"), u32("status")), u32("level")).withName("kvm_irq_level");

    public static final StructLayout KVM_IRQFD = structLayout(
            u32("fd"), u32("gsi"), u32("flags"), u32("resamplefd"), bytes("pad", 16)).withName("kvm_irqfd");

    /** A zone of guest-physical or port addresses whose writes KVM puts in the coalesced ring (the union's pio). */
    public static final StructLayout KVM_COALESCED_MMIO_ZONE = structLayout(u64("addr"), u32("size"), u32("pio"))
            .withName("kvm_coalesced_mmio_zone");

    /** One write in the coalesced ring. */
    public static final StructLayout KVM_COALESCED_MMIO = structLayout(
            u64("phys_addr"), u32("len"), u32("pio"), bytes("data", 8)).withName("kvm_coalesced_mmio");

    /** The ring's head; its entries follow (a flexible array). */
    public static final StructLayout KVM_COALESCED_MMIO_RING = structLayout(u32("first"), u32("last"))
            .withName("kvm_coalesced_mmio_ring");

    public static final StructLayout KVM_IOEVENTFD = structLayout(
            u64("datamatch"), u64("addr"), u32("len"), u32("fd"), u32("flags"), bytes("pad", 36))
            .withName("kvm_ioeventfd");

    public static final StructLayout KVM_PIT_CONFIG = structLayout(
            u32("flags"), sequenceLayout(15, U32).withName("pad")).withName("kvm_pit_config");

    /** Header of kvm_signal_mask; {@code __u8 sigset[len]} follows. */
    public static final StructLayout KVM_SIGNAL_MASK = structLayout(u32("len")).withName("kvm_signal_mask");

    public static final StructLayout KVM_INTERRUPT = structLayout(u32("irq")).withName("kvm_interrupt");

    public static final StructLayout KVM_IRQ_ROUTING_ENTRY = structLayout(
            u32("gsi"), u32("type"), u32("flags"), u32("pad"),
            unionLayout(
                    structLayout(u32("irqchip"), u32("pin")).withName("irqchip"),
                    structLayout(u32("address_lo"), u32("address_hi"), u32("data"),
                            unionLayout(u32("pad"), u32("devid"))).withName("msi"),
                    sequenceLayout(8, U32).withName("pad")).withName("u")).withName("kvm_irq_routing_entry");

    /** Header of kvm_irq_routing; {@code entries[nr]} follow. */
    public static final StructLayout KVM_IRQ_ROUTING = structLayout(u32("nr"), u32("flags")).withName("kvm_irq_routing");

    public static final StructLayout KVM_RUN = structLayout(
            u8("request_interrupt_window"), u8("immediate_exit"), bytes("padding1", 6),
            u32("exit_reason"), u8("ready_for_interrupt_injection"), u8("if_flag"), u16("flags"),
            u64("cr8"), u64("apic_base"),
            unionLayout(
                    structLayout(u64("hardware_exit_reason")).withName("hw"),
                    structLayout(u64("hardware_entry_failure_reason"), u32("cpu"), paddingLayout(4))
                            .withName("fail_entry"),
                    structLayout(u32("exception"), u32("error_code")).withName("ex"),
                    structLayout(u8("direction"), u8("size"), u16("port"), u32("count"), u64("data_offset"))
                            .withName("io"),
                    structLayout(u64("phys_addr"), bytes("data", 8), u32("len"), u8("is_write"), paddingLayout(3))
                            .withName("mmio"),
                    structLayout(u32("suberror"), u32("ndata"), sequenceLayout(16, U64).withName("data"))
                            .withName("internal"),
                    structLayout(u32("type"), u32("ndata"),
                            unionLayout(u64("flags"), sequenceLayout(16, U64).withName("data")))
                            .withName("system_event"),
                    bytes("padding", 256)),
            u64("kvm_valid_regs"), u64("kvm_dirty_regs"),
            unionLayout(bytes("padding", 2048)).withName("s")).withName("kvm_run");

    /** Every struct above by its C name (without "struct"), for the layout test. */
    public static Map<String, GroupLayout> all() {
        Map<String, GroupLayout> m = new LinkedHashMap<>();
        for (GroupLayout g : new GroupLayout[] {KVM_REGS, KVM_SEGMENT, KVM_DTABLE, KVM_SREGS, KVM_FPU,
                KVM_MSR_ENTRY, KVM_MSRS, KVM_MSR_LIST, KVM_CPUID_ENTRY2, KVM_CPUID2, KVM_LAPIC_STATE,
                KVM_MP_STATE, KVM_XCR, KVM_XCRS, KVM_VCPU_EVENTS, KVM_CLOCK_DATA, KVM_DEBUGREGS, KVM_XSAVE,
                KVM_IRQCHIP, KVM_PIT_CHANNEL_STATE, KVM_PIT_STATE2, KVM_USERSPACE_MEMORY_REGION,
                KVM_IRQ_LEVEL, KVM_IRQFD, KVM_IOEVENTFD, KVM_COALESCED_MMIO_ZONE, KVM_COALESCED_MMIO, KVM_COALESCED_MMIO_RING, KVM_IRQ_ROUTING_ENTRY, KVM_IRQ_ROUTING, KVM_PIT_CONFIG, KVM_SIGNAL_MASK, KVM_INTERRUPT,
                KVM_RUN}) {
            m.put(g.name().orElseThrow(), g);
        }
        return m;
    }

    /**
     * Offset of a (possibly nested) member, e.g. {@code offset(KVM_RUN, "io", "port")}. Members
     * of unnamed (anonymous in C) unions and structs are found as if they were direct members.
     */
    public static long offset(GroupLayout layout, String... path) {
        // A create marshals hundreds of fields: each walked its layout's members by name before this cache.
        return OFFSETS.computeIfAbsent(new OffsetKey(layout, path.length == 1 ? path[0] : String.join(".", path)),
                k -> walk(layout, path));
    }

    /** Offsets found so far: the layouts are this class's constants and the paths are in code, so few. */
    private static final java.util.concurrent.ConcurrentHashMap<OffsetKey, Long> OFFSETS = new java.util.concurrent.ConcurrentHashMap<>();

    /** A layout by identity (its own equals compares every member) and a dotted member path. */
    private record OffsetKey(GroupLayout layout, String path) {
        @Override
        public boolean equals(Object o) {
            return o instanceof OffsetKey k && k.layout == layout && k.path.equals(path);
        }

        @Override
        public int hashCode() {
            return System.identityHashCode(layout) * 31 + path.hashCode();
        }
    }

    private static long walk(GroupLayout layout, String... path) {
        long total = 0;
        MemoryLayout current = layout;
        for (String name : path) {
            if (!(current instanceof GroupLayout g)) {
                throw new IllegalArgumentException("no member " + name + " in " + current);
            }
            long[] at = new long[1];
            MemoryLayout found = find(g, name, at);
            if (found == null) {
                throw new IllegalArgumentException("no member " + name + " in " + g);
            }
            total += at[0];
            current = found;
        }
        return total;
    }

    private static MemoryLayout find(GroupLayout g, String name, long[] at) {
        long offset = 0;
        for (MemoryLayout m : g.memberLayouts()) {
            if (m.name().filter(name::equals).isPresent()) {
                at[0] = offset;
                return m;
            }
            if (m.name().isEmpty() && m instanceof GroupLayout inner) {
                long[] innerAt = new long[1];
                MemoryLayout found = find(inner, name, innerAt);
                if (found != null) {
                    at[0] = offset + innerAt[0];
                    return found;
                }
            }
            if (g instanceof StructLayout) {
                offset += m.byteSize();
            }
        }
        return null;
    }
}
