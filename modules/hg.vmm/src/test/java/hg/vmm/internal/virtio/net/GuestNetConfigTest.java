package hg.vmm.internal.virtio.net;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class GuestNetConfigTest {

    @Test
    void vmOneGetsTheFirstGuestAddress() {
        GuestNetConfig n = GuestNetConfig.forVm(1);
        assertEquals("02:68:67:00:00:01", n.macText());
        assertEquals("172.30.0.2", n.address().getHostAddress());
        assertEquals("172.30.0.1", n.gateway().getHostAddress());
        assertEquals("ip=172.30.0.2::172.30.0.1:255.255.0.0::eth0:off", n.kernelArgument());
        assertEquals("ip=172.30.1.43::172.30.0.1:255.255.0.0::eth0:off", GuestNetConfig.forVm(298).kernelArgument());
        assertEquals("02:68:67:00:01:2a", GuestNetConfig.forVm(298).macText());
    }

    @Test
    void idsWithoutAnAddressAreRefused() {
        assertEquals("172.30.255.254", GuestNetConfig.forVm(GuestNetConfig.MAX_ID).address().getHostAddress());
        assertThrows(IllegalArgumentException.class, () -> GuestNetConfig.forVm(GuestNetConfig.MAX_ID + 1));
        assertThrows(IllegalArgumentException.class, () -> GuestNetConfig.forVm(0));
    }

    /** No two VMs share an address or a MAC, and none takes the gateway's. */
    @Property(tries = 200)
    void addressesAndMacsAreUniquePerVm(@ForAll @IntRange(min = 1, max = GuestNetConfig.MAX_ID) int a,
                                       @ForAll @IntRange(min = 1, max = GuestNetConfig.MAX_ID) int b) {
        GuestNetConfig x = GuestNetConfig.forVm(a);
        GuestNetConfig y = GuestNetConfig.forVm(b);
        assertNotEquals(x.gateway(), x.address());
        if (a != b) {
            assertNotEquals(x.address(), y.address());
            assertNotEquals(x.macText(), y.macText());
        }
        assertEquals(0, x.mac()[0] & 1, "unicast");
        assertEquals(2, x.mac()[0] & 2, "locally administered");
    }
}
