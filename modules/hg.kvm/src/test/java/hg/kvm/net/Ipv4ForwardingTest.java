package hg.kvm.net;

import hg.kvm.testkit.TestNetns;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class Ipv4ForwardingTest {
    @Test
    void turnsOnOneInterfaceAndNoOther() throws Exception {
        try (TestNetns ns = TestNetns.create()) {
            turnsOnOneInterfaceAndNoOther(ns);
        }
    }

    private static void turnsOnOneInterfaceAndNoOther(TestNetns ns) throws Exception {
        ns.ip("link", "add", "fw0", "type", "veth", "peer", "name", "fw1");
        assertEquals("0", ns.exec("cat", "/proc/sys/net/ipv4/conf/fw0/forwarding").strip());
        ns.run(() -> {
            Ipv4Forwarding.enable("fw0");
            return null;
        });
        assertEquals("1", ns.exec("cat", "/proc/sys/net/ipv4/conf/fw0/forwarding").strip());
        assertEquals("0", ns.exec("cat", "/proc/sys/net/ipv4/conf/fw1/forwarding").strip());
        assertEquals("0", ns.exec("cat", "/proc/sys/net/ipv4/ip_forward").strip());
        NetSetupException e = assertThrows(NetSetupException.class, () -> ns.run(() -> {
            Ipv4Forwarding.enable("nosuch0");
            return null;
        }));
        assertTrue(e.getMessage().contains("RTM_SETLINK nosuch0"), e.getMessage());
    }
}
