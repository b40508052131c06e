package hg.vmm.internal.cpu;

import hg.kvm.CpuidTable;
import hg.kvm.CpuidEntry;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * {@link CpuidSetup#forVcpu}'s answers, laid out for KVM once per vCPU shape (APIC id, vCPU count) and handed to
 * every later vCPU of that shape: a VMM makes the same kind of VM again and again, and working out and laying
 * out sixty-odd leaves per vCPU was a tenth of a create. One supported set at a time (a process has one
 * /dev/kvm); at most {@value #MOST} shapes are kept, past that each is made afresh.
 */
public final class CpuidTables {
    static final int MOST = 1024;

    private static List<CpuidEntry> supported;
    private static boolean tscDeadline;
    private static final Map<Integer, CpuidTable> TABLES = new HashMap<>();

    private CpuidTables() {
    }

    public static synchronized CpuidTable forVcpu(List<CpuidEntry> supportedNow, int apicId, int count, boolean deadline) {
        if (supportedNow != supported || deadline != tscDeadline) {
            supported = supportedNow;
            tscDeadline = deadline;
            TABLES.clear();
        }
        int key = count << 8 | apicId;
        CpuidTable table = TABLES.get(key);
        if (table == null) {
            table = CpuidTable.of(CpuidSetup.forVcpu(supportedNow, apicId, count, deadline));
            if (TABLES.size() < MOST) {
                TABLES.put(key, table);
            }
        }
        return table;
    }
}
