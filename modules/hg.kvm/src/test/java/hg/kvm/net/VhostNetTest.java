package hg.kvm.net;

import hg.kvm.KvmException;
import hg.kvm.internal.Errno;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Opening /dev/vhost-net: a missing or refused device is an answer, not an exception. */
class VhostNetTest {

    @Test
    void aMissingDeviceIsUnavailableWithItsErrno() {
        VhostNet.Opening o = VhostNet.open("/nonexistent/vhost-net");
        VhostNet.Unavailable u = assertInstanceOf(VhostNet.Unavailable.class, o);
        assertEquals(Errno.ENOENT, u.errno());
        assertTrue(u.reason().startsWith("/nonexistent/vhost-net: No such file or directory"), u.reason());
    }

    @Test
    void aNodeThatIsNotVhostFailsItsFirstIoctlWithAKvmException() {
        // /dev/null opens, but it is no vhost device: the wrapper names the call that failed.
        VhostNet.Opened o = assertInstanceOf(VhostNet.Opened.class, VhostNet.open("/dev/null"));
        try (VhostNet v = o.device()) {
            KvmException e = assertThrows(KvmException.class, v::setOwner);
            assertEquals("VHOST_SET_OWNER", e.call());
        }
    }

    @Test
    void theHostsDeviceOpensOrSaysWhyNot() {
        switch (VhostNet.open()) {
            case VhostNet.Unavailable u -> assertNotEquals(0, u.errno(), u.reason());
            case VhostNet.Opened(VhostNet v) -> {
                try (v) {
                    v.setOwner();
                    long f = v.features();
                    assertNotEquals(0, f & (1L << 32), "vhost-net without VIRTIO_F_VERSION_1: " + Long.toHexString(f));
                }
            }
        }
    }
}
