package hg.host.internal;

import hg.host.GuestAgent;
import hg.host.HostException;
import hg.vmm.VmInfo;
import hg.vmm.VmNet;

import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Optional;

/**
 * What makes a clone its own guest, told through its agent: fresh randomness (its CRNG is its parent's until
 * reseeded) and, for a networked clone, the MAC and address of the place on the bridge it was given (its
 * guest still uses its parent's, which the bridge's filter drops on the clone's port, until then).
 */
public final class CloneIdentity {
    /** The guest's one card, as the default image and the kernel's {@code ip=} name it. */
    static final String GUEST_CARD = "eth0";
    /** Bytes of seed per clone: far beyond the 256 bits the CRNG needs, and one small frame. */
    static final int SEED_BYTES = 64;
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final System.Logger LOG = System.getLogger("hg.host");

    private CloneIdentity() {
    }

    /**
     * Gives the clone {@code clone} its identity. A networked clone must get it, or it is of no use: its agent's
     * refusal or silence is a {@link HostException} (the caller ends the clone). Any other clone is only reseeded,
     * in the background and as best it can, so a guest without an agent is not held up by it.
     */
    public static void give(VmInfo clone) throws HostException {
        Optional<Path> vsock = clone.vsock();
        Optional<VmNet> net = clone.net();
        if (net.isEmpty()) {
            vsock.ifPresent(socket -> Thread.ofVirtual().name("vm" + clone.id() + "-reseed").start(() -> {
                try {
                    new GuestAgent(clone.id(), socket).reseed(seed());
                } catch (HostException e) {
                    LOG.log(System.Logger.Level.DEBUG, "clone " + clone.id() + " was not reseeded: " + e.getMessage());
                }
            }));
            return;
        }
        GuestAgent agent = new GuestAgent(clone.id(), vsock.orElseThrow(() -> new HostException(HostException.Kind.CONFLICT,
                "vm " + clone.id() + " is a networked clone without a vsock: no agent can give it an address")));
        VmNet n = net.get();
        agent.reseed(seed());
        agent.setNetwork(GUEST_CARD, HexFormat.ofDelimiter(":").parseHex(n.mac()), n.address(), n.gateway());
    }

    private static byte[] seed() {
        byte[] seed = new byte[SEED_BYTES];
        RANDOM.nextBytes(seed);
        return seed;
    }
}
