package hg.vmm.internal.virtio.net;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The ruleset's text: one element per slot, tying the TAP to its MAC and address, and the rules around it. */
class SpoofFilterTest {

    @Test
    void twoSlots() {
        assertEquals("""
                table bridge hyper-gen
                delete table bridge hyper-gen
                table bridge hyper-gen {
                  set guests {
                    type ifname . ether_addr . ipv4_addr
                    flags constant
                    elements = {
                      "hgvm1" . 02:68:67:00:00:01 . 172.30.0.2,
                      "hgvm2" . 02:68:67:00:00:02 . 172.30.0.3
                    }
                  }
                  chain guests {
                    type filter hook prerouting priority filter; policy accept;
                    iifname != "hgvm*" accept
                    iifname . ether saddr . ip saddr @guests accept
                    arp htype 1 arp ptype ip arp hlen 6 arp plen 4 iifname . ether saddr . arp saddr ip @guests \
                iifname . arp saddr ether . arp saddr ip @guests accept
                    counter drop
                  }
                }
                """, SpoofFilter.ruleset(1, 2));
    }

    @Test
    void everySlotHasItsElementAsTheVmmAddressesIt() {
        String all = SpoofFilter.ruleset();
        assertEquals(GuestNetConfig.MAX_ID, all.lines().filter(l -> l.startsWith("      \"hgvm")).count());
        for (int slot : new int[] {1, 255, 256, 65_533}) {
            GuestNetConfig net = GuestNetConfig.forVm(slot);
            String element = "\"" + TapNetwork.tapName(slot) + "\" . " + net.macText() + " . " + net.address().getHostAddress();
            assertTrue(all.contains("      " + element + (slot < GuestNetConfig.MAX_ID ? ",\n" : "\n")), element);
        }
        assertTrue(all.contains("\"hgvm65533\" . 02:68:67:00:ff:fd . 172.30.255.254\n"));
    }

    @Test
    void theWholeRulesetIsQuickToMake() {
        SpoofFilter.ruleset();
        long t0 = System.nanoTime();
        String all = SpoofFilter.ruleset();
        long ms = (System.nanoTime() - t0) / 1_000_000;
        System.out.println("ruleset for " + GuestNetConfig.MAX_ID + " slots: " + all.length() + " bytes in " + ms + " ms");
        assertTrue(ms < 2_000, ms + " ms");
    }
}
