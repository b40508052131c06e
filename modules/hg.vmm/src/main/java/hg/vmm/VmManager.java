package hg.vmm;

import hg.kvm.CpuidEntry;
import hg.kvm.Kvm;
import hg.kvm.KvmException;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The VMs of this process, by id (1, 2, ...). Each VM is isolated: one that stops (reset,
 * triple fault, panic) leaves the others running; it stays listed with its reason until
 * destroyed.
 */
public final class VmManager implements AutoCloseable {

    private final Map<Integer, Vm> vms = new ConcurrentSkipListMap<>();
    private final AtomicInteger nextId = new AtomicInteger(1);
    private Kvm kvm;
    private List<CpuidEntry> supportedCpuid;
    private boolean closed;

    /** No VM yet; /dev/kvm is opened at the first create. */
    public VmManager() {
    }

    private synchronized Kvm kvm() {
        if (closed) {
            throw new VmException("the VM manager is closed");
        }
        if (kvm == null) {
            try {
                kvm = Kvm.open();
                supportedCpuid = kvm.supportedCpuid();
            } catch (KvmException e) {
                throw new VmException("cannot open /dev/kvm: " + e.getMessage(), e);
            }
        }
        return kvm;
    }

    /**
     * Creates and starts a VM; returns its id. Throws {@link VmException} naming the problem.
     * Creations are serialised (each takes a few milliseconds) so none can slip past {@link #close()}.
     */
    public synchronized int create(VmConfig config) {
        Kvm k = kvm();
        int id = nextId.getAndIncrement();
        Vm vm;
        try {
            vm = Vm.create(k, supportedCpuid, id, config);
        } catch (RuntimeException e) {
            // A refused create leaves no gap in the ids, unless another create took a later one meanwhile.
            nextId.compareAndSet(id + 1, id);
            throw e;
        }
        vms.put(id, vm);
        return id;
    }

    /** Snapshots of every VM, by id. */
    public List<VmInfo> list() {
        List<VmInfo> out = new ArrayList<>();
        for (Vm vm : vms.values()) {
            out.add(vm.info());
        }
        return out;
    }

    public Optional<Vm> get(int id) {
        return Optional.ofNullable(vms.get(id));
    }

    /** The VM with this id, or a {@link VmException} saying there is none. */
    public Vm require(int id) {
        Vm vm = vms.get(id);
        if (vm == null) {
            throw new VmException("no VM with id " + id);
        }
        return vm;
    }

    /** Stops the VM, frees everything it held and forgets it. */
    public void destroy(int id) {
        Vm vm = vms.remove(id);
        if (vm == null) {
            throw new VmException("no VM with id " + id);
        }
        vm.destroy();
    }

    /** Destroys every VM and closes /dev/kvm. */
    @Override
    public synchronized void close() {
        closed = true;
        for (Integer id : new ArrayList<>(vms.keySet())) {
            Vm vm = vms.remove(id);
            if (vm != null) {
                vm.destroy();
            }
        }
        if (kvm != null) {
            kvm.close();
            kvm = null;
        }
    }
}
