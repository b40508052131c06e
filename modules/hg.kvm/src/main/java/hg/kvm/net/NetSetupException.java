package hg.kvm.net;

import hg.kvm.KvmException;
import hg.kvm.internal.Errno;

/**
 * The host's networking could not be set up for a VM: no TUN/TAP driver, no CAP_NET_ADMIN, no
 * bridge support, a name in use. The message is one line that names the call, the errno and
 * what the host lacks.
 */
public final class NetSetupException extends KvmException {
    private static final long serialVersionUID = 1L;

    private final int errno;

    public NetSetupException(String call, int errno, String hint) {
        super(call, Errno.name(errno) + " (" + Errno.description(errno) + ")" + (hint.isEmpty() ? "" : ": " + hint));
        this.errno = errno;
    }

    @Override
    public int errno() {
        return errno;
    }

    @Override
    public String errnoName() {
        return Errno.name(errno);
    }

    /** What a failed networking call most likely means on this host, or "" when nothing useful fits. */
    static String hint(int errno) {
        return switch (errno) {
            case Errno.EPERM, Errno.EACCES -> "the VMM needs CAP_NET_ADMIN (run it as root) to create network devices";
            case Errno.ENOENT, Errno.ENODEV, Errno.ENXIO -> "the host kernel has no TUN/TAP driver (CONFIG_TUN) or /dev/net/tun is missing";
            default -> "";
        };
    }
}
