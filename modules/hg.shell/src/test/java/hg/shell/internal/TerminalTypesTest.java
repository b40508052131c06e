package hg.shell.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.jline.utils.InfoCmp;
import org.junit.jupiter.api.Test;

class TerminalTypesTest {
    @Test
    void shippedCapabilitiesParseWithTheKeysLineEditingNeeds() {
        for (String name : TerminalTypes.SHIPPED) {
            Set<InfoCmp.Capability> bools = new HashSet<>();
            Map<InfoCmp.Capability, Integer> ints = new HashMap<>();
            Map<InfoCmp.Capability, String> strings = new HashMap<>();
            InfoCmp.parseInfoCmp(TerminalTypes.caps(name), bools, ints, strings);
            for (InfoCmp.Capability c : new InfoCmp.Capability[] {InfoCmp.Capability.key_up,
                    InfoCmp.Capability.key_down, InfoCmp.Capability.key_left, InfoCmp.Capability.key_right,
                    InfoCmp.Capability.carriage_return, InfoCmp.Capability.clr_eol}) {
                assertTrue(strings.containsKey(c), name + " has " + c);
            }
        }
    }

    @Test
    void registeredTypesNeedNoInfocmp() throws Exception {
        TerminalTypes.register();
        assertTrue(InfoCmp.getInfoCmp("vt102").contains("vt102|"));
        assertTrue(InfoCmp.getInfoCmp("linux").contains("linux|Linux console"));
    }

    @Test
    void typesWithoutCapabilitiesFallToTheNearestFamily() {
        assertNull(TerminalTypes.choose(null, t -> false));
        assertNull(TerminalTypes.choose(" ", t -> false));
        assertEquals("vt102", TerminalTypes.choose("vt102", t -> false));
        assertEquals("linux", TerminalTypes.choose("linux", t -> false));
        assertEquals("xterm-256color", TerminalTypes.choose("xterm-256color", t -> false));
        assertEquals("xterm", TerminalTypes.choose("xterm-kitty", t -> false));
        assertEquals("xterm-kitty", TerminalTypes.choose("xterm-kitty", t -> true), "infocmp knows it");
        assertEquals("screen", TerminalTypes.choose("tmux-256color", t -> false));
        assertEquals("vt220", TerminalTypes.choose("vt320", t -> false));
        assertEquals("linux", TerminalTypes.choose("linux-16color", t -> false));
        assertEquals("ansi", TerminalTypes.choose("foot", t -> false));
    }
}
