package hg.vmm.internal.virtio.net;

import hg.kvm.KvmException;
import hg.kvm.net.Tap;

import java.lang.foreign.MemorySegment;
import java.util.List;

/** A virtio-net backend on a host TAP device: frames move with one read or writev each. */
public final class TapBackend implements NetBackend {

    private static final System.Logger LOG = System.getLogger("hg.vmm.net");

    private final Tap tap;
    private final String description;
    private boolean sendFailureLogged;
    private boolean receiveFailureLogged;

    public TapBackend(Tap tap, String description) {
        this.tap = tap;
        this.description = description;
    }

    public Tap tap() {
        return tap;
    }

    @Override
    public int receive(MemorySegment into) {
        try {
            return tap.read(into);
        } catch (KvmException e) {
            // A host-side failure is not the guest's fault: its card just receives nothing.
            if (!receiveFailureLogged) {
                receiveFailureLogged = true;
                LOG.log(System.Logger.Level.WARNING, description + ": reading frames failed: " + e.getMessage());
            }
            return 0;
        }
    }

    @Override
    public boolean send(List<MemorySegment> parts) {
        try {
            return tap.writev(parts) > 0;
        } catch (KvmException e) {
            // The kernel refused this frame (a header it rejects, the link down): drop it, as a wire would.
            if (!sendFailureLogged) {
                sendFailureLogged = true;
                LOG.log(System.Logger.Level.WARNING, description + ": dropping frames the host refuses: " + e.getMessage());
            }
            return false;
        }
    }

    @Override
    public boolean setOffload(int flags) {
        return tap.setOffload(flags);
    }

    @Override
    public int fd() {
        return tap.fd();
    }

    @Override
    public String describe() {
        return description;
    }

    @Override
    public void close() {
        tap.close();
    }
}
