package hg.kvm;

import hg.kvm.internal.Errno;
import hg.kvm.internal.Ioctls;
import hg.kvm.internal.Layouts;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.PaddingLayout;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Checks the hand-written layouts, ioctl numbers, capability and exit numbers and errno names
 * against what gcc says from the system's linux/kvm.h and errno.h.
 */
class StructLayoutTest {
    private static Map<String, String> fromC;

    /** Expected values computed from the Java side, keyed like the C program's output. */
    private static final Map<String, Long> FROM_JAVA = new LinkedHashMap<>();
    private static final StringBuilder C = new StringBuilder();

    @BeforeAll
    static void compileAndRun() throws Exception {
        C.append("#include <stdio.h>\n#include <stddef.h>\n#include <string.h>\n#include <errno.h>\n")
                .append("#include <linux/kvm.h>\nint main(void) {\n");
        for (Map.Entry<String, GroupLayout> e : Layouts.all().entrySet()) {
            String struct = e.getKey();
            GroupLayout layout = e.getValue();
            emit("sizeof " + struct, "sizeof(struct " + struct + ")", layout.byteSize());
            members(struct, layout, layout, new ArrayList<>());
        }
        for (Map.Entry<String, Long> e : Ioctls.all().entrySet()) {
            emit(e.getKey(), e.getKey(), e.getValue());
        }
        Map<String, Long> caps = new LinkedHashMap<>();
        caps.put("KVM_CAP_IRQCHIP", (long) KvmCap.IRQCHIP);
        caps.put("KVM_CAP_HLT", (long) KvmCap.HLT);
        caps.put("KVM_CAP_USER_MEMORY", (long) KvmCap.USER_MEMORY);
        caps.put("KVM_CAP_SET_TSS_ADDR", (long) KvmCap.SET_TSS_ADDR);
        caps.put("KVM_CAP_EXT_CPUID", (long) KvmCap.EXT_CPUID);
        caps.put("KVM_CAP_NR_VCPUS", (long) KvmCap.NR_VCPUS);
        caps.put("KVM_CAP_NR_MEMSLOTS", (long) KvmCap.NR_MEMSLOTS);
        caps.put("KVM_CAP_MP_STATE", (long) KvmCap.MP_STATE);
        caps.put("KVM_CAP_COALESCED_MMIO", (long) KvmCap.COALESCED_MMIO);
        caps.put("KVM_CAP_COALESCED_PIO", (long) KvmCap.COALESCED_PIO);
        caps.put("KVM_COALESCED_MMIO_PAGE_OFFSET", (long) CoalescedRing.PAGE_OFFSET);
        caps.put("KVM_CAP_IRQ_ROUTING", (long) KvmCap.IRQ_ROUTING);
        caps.put("KVM_CAP_IRQFD", (long) KvmCap.IRQFD);
        caps.put("KVM_CAP_PIT2", (long) KvmCap.PIT2);
        caps.put("KVM_CAP_IOEVENTFD", (long) KvmCap.IOEVENTFD);
        caps.put("KVM_CAP_ADJUST_CLOCK", (long) KvmCap.ADJUST_CLOCK);
        caps.put("KVM_CAP_VCPU_EVENTS", (long) KvmCap.VCPU_EVENTS);
        caps.put("KVM_CAP_XCRS", (long) KvmCap.XCRS);
        caps.put("KVM_CAP_MAX_VCPUS", (long) KvmCap.MAX_VCPUS);
        caps.put("KVM_CAP_SIGNAL_MSI", (long) KvmCap.SIGNAL_MSI);
        caps.put("KVM_CAP_IMMEDIATE_EXIT", (long) KvmCap.IMMEDIATE_EXIT);
        caps.put("KVM_EXIT_UNKNOWN", (long) KvmRun.EXIT_UNKNOWN);
        caps.put("KVM_EXIT_IO", (long) KvmRun.EXIT_IO);
        caps.put("KVM_EXIT_HLT", (long) KvmRun.EXIT_HLT);
        caps.put("KVM_EXIT_MMIO", (long) KvmRun.EXIT_MMIO);
        caps.put("KVM_EXIT_SHUTDOWN", (long) KvmRun.EXIT_SHUTDOWN);
        caps.put("KVM_EXIT_FAIL_ENTRY", (long) KvmRun.EXIT_FAIL_ENTRY);
        caps.put("KVM_EXIT_INTR", (long) KvmRun.EXIT_INTR);
        caps.put("KVM_EXIT_INTERNAL_ERROR", (long) KvmRun.EXIT_INTERNAL_ERROR);
        caps.put("KVM_EXIT_SYSTEM_EVENT", (long) KvmRun.EXIT_SYSTEM_EVENT);
        caps.put("KVM_SYSTEM_EVENT_SHUTDOWN", (long) VcpuExit.SystemEvent.SHUTDOWN);
        caps.put("KVM_SYSTEM_EVENT_RESET", (long) VcpuExit.SystemEvent.RESET);
        caps.put("KVM_SYSTEM_EVENT_CRASH", (long) VcpuExit.SystemEvent.CRASH);
        caps.put("KVM_INTERNAL_ERROR_EMULATION", (long) VcpuExit.InternalError.EMULATION);
        caps.put("KVM_MEM_LOG_DIRTY_PAGES", (long) MemoryRegion.FLAG_LOG_DIRTY_PAGES);
        caps.put("KVM_MEM_READONLY", (long) MemoryRegion.FLAG_READONLY);
        caps.put("KVM_PIT_SPEAKER_DUMMY", (long) VmFd.PIT_SPEAKER_DUMMY);
        caps.put("KVM_MP_STATE_RUNNABLE", (long) VcpuFd.MP_STATE_RUNNABLE);
        caps.put("KVM_MP_STATE_HALTED", (long) VcpuFd.MP_STATE_HALTED);
        caps.put("KVM_API_VERSION", (long) Kvm.API_VERSION);
        caps.put("KVM_IRQ_ROUTING_IRQCHIP", (long) IrqRoute.TYPE_IRQCHIP);
        caps.put("KVM_IRQ_ROUTING_MSI", (long) IrqRoute.TYPE_MSI);
        caps.put("KVM_IRQCHIP_PIC_MASTER", (long) IrqRoute.Chip.PIC_MASTER.id());
        caps.put("KVM_IRQCHIP_PIC_SLAVE", (long) IrqRoute.Chip.PIC_SLAVE.id());
        caps.put("KVM_IRQCHIP_IOAPIC", (long) IrqRoute.Chip.IOAPIC.id());
        caps.put("KVM_CAP_DEBUGREGS", (long) KvmCap.DEBUGREGS);
        caps.put("KVM_CAP_XSAVE", (long) KvmCap.XSAVE);
        caps.put("KVM_CAP_TSC_CONTROL", (long) KvmCap.TSC_CONTROL);
        caps.put("KVM_CAP_GET_TSC_KHZ", (long) KvmCap.GET_TSC_KHZ);
        caps.put("KVM_CAP_EXCEPTION_PAYLOAD", (long) KvmCap.EXCEPTION_PAYLOAD);
        caps.put("KVM_CAP_XSAVE2", (long) KvmCap.XSAVE2);
        caps.put("KVM_CAP_X86_TRIPLE_FAULT_EVENT", (long) KvmCap.X86_TRIPLE_FAULT_EVENT);
        caps.put("KVM_CLOCK_TSC_STABLE", (long) ClockData.FLAG_TSC_STABLE);
        caps.put("KVM_CLOCK_REALTIME", (long) ClockData.FLAG_REALTIME);
        caps.put("KVM_CLOCK_HOST_TSC", (long) ClockData.FLAG_HOST_TSC);
        caps.put("KVM_VCPUEVENT_VALID_NMI_PENDING", (long) VcpuEvents.VALID_NMI_PENDING);
        caps.put("KVM_VCPUEVENT_VALID_SIPI_VECTOR", (long) VcpuEvents.VALID_SIPI_VECTOR);
        caps.put("KVM_VCPUEVENT_VALID_SHADOW", (long) VcpuEvents.VALID_SHADOW);
        caps.put("KVM_VCPUEVENT_VALID_SMM", (long) VcpuEvents.VALID_SMM);
        caps.put("KVM_VCPUEVENT_VALID_PAYLOAD", (long) VcpuEvents.VALID_PAYLOAD);
        caps.put("KVM_VCPUEVENT_VALID_TRIPLE_FAULT", (long) VcpuEvents.VALID_TRIPLE_FAULT);
        caps.put("KVM_IRQCHIP_PIC_MASTER + 0", (long) IrqchipState.PIC_MASTER);
        caps.put("KVM_IRQCHIP_PIC_SLAVE + 0", (long) IrqchipState.PIC_SLAVE);
        caps.put("KVM_IRQCHIP_IOAPIC + 0", (long) IrqchipState.IOAPIC);
        caps.put("sizeof(((struct kvm_irqchip *)0)->chip)", (long) IrqchipState.DATA_SIZE);
        caps.put("sizeof(struct kvm_pit_state2)", (long) PitState.SIZE);
        caps.put("sizeof(struct kvm_xsave)", (long) Xsave.LEGACY_SIZE);
        caps.put("sizeof(struct kvm_pic_state) <= sizeof(((struct kvm_irqchip *)0)->chip)", 1L);
        caps.put("sizeof(struct kvm_ioapic_state) <= sizeof(((struct kvm_irqchip *)0)->chip)", 1L);
        for (Map.Entry<String, Long> e : caps.entrySet()) {
            emit(e.getKey(), e.getKey(), e.getValue());
        }
        for (int errno : Errno.known()) {
            emit(Errno.name(errno), Errno.name(errno), errno);
            C.append("  printf(\"strerror ").append(errno).append(" %s|\\n\", strerror(").append(errno).append("));\n");
        }
        C.append("  return 0;\n}\n");
        fromC = CProgram.keyValues(C.toString());
    }

    private static void emit(String key, String cExpression, long javaValue) {
        FROM_JAVA.put(key, javaValue);
        C.append("  printf(\"%s %llu\\n\", \"").append(key).append("\", (unsigned long long)(")
                .append(cExpression).append("));\n");
    }

    /** Emits offsetof for every named member, descending into nested groups like C does. */
    private static void members(String struct, GroupLayout root, GroupLayout group, List<String> path) {
        for (MemoryLayout m : group.memberLayouts()) {
            if (m instanceof PaddingLayout) {
                continue;
            }
            if (m.name().isEmpty()) {
                if (m instanceof GroupLayout inner) {
                    members(struct, root, inner, path);
                }
                continue;
            }
            List<String> p = new ArrayList<>(path);
            p.add(m.name().get());
            String cPath = String.join(".", p);
            emit("offsetof " + struct + "." + cPath, "offsetof(struct " + struct + ", " + cPath + ")",
                    Layouts.offset(root, p.toArray(String[]::new)));
            if (m instanceof GroupLayout inner) {
                members(struct, root, inner, p);
            }
        }
    }

    @Test
    void everyLayoutSizeOffsetAndConstantMatchesGcc() {
        assertEquals(List.of(), CProgram.mismatches(FROM_JAVA, fromC));
        // sanity: the program really checked something of each kind
        assertEquals(String.valueOf(Layouts.KVM_RUN.byteSize()), fromC.get("sizeof kvm_run"));
    }

    @Test
    void errnoDescriptionsMatchTheCLibrary() {
        for (int errno : Errno.known()) {
            String line = null;
            for (Map.Entry<String, String> e : fromC.entrySet()) {
                if (e.getKey().startsWith("strerror " + errno + " ")) {
                    line = e.getKey().substring(("strerror " + errno + " ").length()) + " " + e.getValue();
                }
            }
            assertEquals(Errno.description(errno) + "|", line, "strerror(" + errno + ")");
        }
    }
}
