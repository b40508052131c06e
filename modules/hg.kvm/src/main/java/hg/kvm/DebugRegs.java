package hg.kvm;

import java.util.Arrays;

/** A vCPU's debug registers (struct kvm_debugregs): DR0..DR3, DR6, DR7 and KVM's flags word. */
public record DebugRegs(long[] db, long dr6, long dr7, long flags) {
    public DebugRegs {
        if (db.length != 4) {
            throw new IllegalArgumentException("db must hold DR0..DR3 (4 entries), not " + db.length);
        }
        db = db.clone();
    }

    @Override
    public long[] db() {
        return db.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DebugRegs d && Arrays.equals(db, d.db) && dr6 == d.dr6 && dr7 == d.dr7
                && flags == d.flags;
    }

    @Override
    public int hashCode() {
        return ((Arrays.hashCode(db) * 31 + Long.hashCode(dr6)) * 31 + Long.hashCode(dr7)) * 31 + Long.hashCode(flags);
    }

    @Override
    public String toString() {
        return String.format("DebugRegs[db=%s, dr6=0x%x, dr7=0x%x, flags=0x%x]", Arrays.toString(db), dr6, dr7, flags);
    }
}
