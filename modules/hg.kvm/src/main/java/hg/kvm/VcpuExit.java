package hg.kvm;

import static hg.kvm.KvmRun.*;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Why {@link VcpuFd#run()} returned. The I/O and MMIO exits are views over the vCPU's
 * {@code kvm_run} page, one reused instance per vCPU (the hot path allocates nothing): they are
 * valid only until the next {@code run()} of that vCPU. Data a handler supplies for an IN or an
 * MMIO read goes back to the guest on that next {@code run()}.
 */
public sealed interface VcpuExit {

    /** The guest executed OUT/OUTS: {@code count} items of {@code size} bytes for {@code port}. */
    final class IoOut extends Io implements VcpuExit {
        IoOut(MemorySegment run) {
            super(run);
        }

        /** The first (usually only) item written, zero-extended. */
        public long value() {
            return readLe(run, dataOffset(), size());
        }
    }

    /** The guest executed IN/INS: the handler fills {@link #data()} or calls {@link #setValue}. */
    final class IoIn extends Io implements VcpuExit {
        IoIn(MemorySegment run) {
            super(run);
        }

        /** Sets the first (usually only) item the guest reads. */
        public void setValue(long value) {
            writeLe(run, dataOffset(), size(), value);
        }
    }

    /** The guest read {@code length} bytes at an address no memory slot backs. */
    final class MmioRead extends Mmio implements VcpuExit {
        MmioRead(MemorySegment run) {
            super(run);
        }

        /** Sets the value the guest reads (its low {@code length()} bytes, little-endian). */
        public void setValue(long value) {
            writeLe(run, MMIO_DATA, length(), value);
        }
    }

    /** The guest wrote {@code length} bytes at an address no memory slot backs. */
    final class MmioWrite extends Mmio implements VcpuExit {
        MmioWrite(MemorySegment run) {
            super(run);
        }

        /** The value written, zero-extended. */
        public long value() {
            return readLe(run, MMIO_DATA, length());
        }
    }

    /** The guest executed HLT (only seen without an in-kernel irqchip). */
    record Hlt() implements VcpuExit {}

    /** Triple fault or similar: the guest is dead or wants a reset. */
    record Shutdown() implements VcpuExit {}

    /** KVM_RUN was interrupted (a {@link VcpuFd#kick()}, a signal, or immediate_exit). */
    record Interrupted() implements VcpuExit {}

    /** VM entry failed: the vCPU state is invalid for the hardware. */
    record FailEntry(long hardwareReason, int cpu) implements VcpuExit {}

    /** KVM could not go on (e.g. emulation failure); {@code suberror} says which. */
    record InternalError(int suberror, long[] data) implements VcpuExit {
        public static final int EMULATION = 1;
        public static final int SIMUL_EX = 2;
        public static final int DELIVERY_EV = 3;
        public static final int UNEXPECTED_EXIT_REASON = 4;

        public InternalError {
            data = data.clone();
        }

        @Override
        public long[] data() {
            return data.clone();
        }
    }

    /** A system event from the guest (e.g. PSCI-like shutdown/reset, crash). */
    record SystemEvent(int type, long[] data) implements VcpuExit {
        public static final int SHUTDOWN = 1;
        public static final int RESET = 2;
        public static final int CRASH = 3;

        public SystemEvent {
            data = data.clone();
        }

        @Override
        public long[] data() {
            return data.clone();
        }
    }

    /** An exit this VMM does not decode; {@code reason} is the raw KVM_EXIT_* number. */
    record Unknown(int reason, long hardwareExitReason) implements VcpuExit {}

    // ---- shared decoding of kvm_run; not API.

    /** Common part of port I/O exits. */
    abstract sealed class Io permits IoOut, IoIn {
        final MemorySegment run;

        Io(MemorySegment run) {
            this.run = run;
        }

        public int port() {
            return Short.toUnsignedInt(run.get(ValueLayout.JAVA_SHORT, IO_PORT));
        }

        /** Bytes per item: 1, 2 or 4. */
        public int size() {
            return Byte.toUnsignedInt(run.get(ValueLayout.JAVA_BYTE, IO_SIZE));
        }

        /** Items (more than 1 only for string I/O with REP). */
        public int count() {
            return run.get(ValueLayout.JAVA_INT, IO_COUNT);
        }

        /** All items, {@code size() * count()} bytes inside the kvm_run page. */
        public MemorySegment data() {
            return run.asSlice(dataOffset(), (long) size() * Integer.toUnsignedLong(count()));
        }

        final long dataOffset() {
            return run.get(ValueLayout.JAVA_LONG, IO_DATA_OFFSET);
        }

        @Override
        public String toString() {
            return String.format("%s(port 0x%x, size %d, count %d)", getClass().getSimpleName(), port(), size(), count());
        }
    }

    /** Common part of MMIO exits. */
    abstract sealed class Mmio permits MmioRead, MmioWrite {
        final MemorySegment run;

        Mmio(MemorySegment run) {
            this.run = run;
        }

        public long address() {
            return run.get(ValueLayout.JAVA_LONG, MMIO_PHYS_ADDR);
        }

        /** Bytes accessed: 1 to 8. */
        public int length() {
            return Math.min(8, run.get(ValueLayout.JAVA_INT, MMIO_LEN));
        }

        /** The {@code length()} data bytes. */
        public MemorySegment data() {
            return run.asSlice(MMIO_DATA, length());
        }

        @Override
        public String toString() {
            return String.format("%s(0x%x, %d bytes)", getClass().getSimpleName(), address(), length());
        }
    }
}
