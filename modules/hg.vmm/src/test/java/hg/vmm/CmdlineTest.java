package hg.vmm;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CmdlineTest {

    @Test
    void linuxGetsConsoleDiskRebootPathAndDevices() {
        VmConfig c = VmConfig.of(Path.of("vmlinux"), Path.of("root.img")).withCmdline(" init=/bin/sh ");
        assertEquals("console=hvc0 reboot=k panic=1 pci=off nomodules i8042.noaux i8042.nomux i8042.nopnp"
                        + " i8042.dumbkbd hg_boot_marker=0xd0f00000 root=/dev/vda rw virtio_mmio.device=4K@0xd0000000:5 init=/bin/sh",
                GuestCmdline.of(c, List.of("virtio_mmio.device=4K@0xd0000000:5")));
        assertEquals("console=hvc0 " + GuestCmdline.BASE + " root=/dev/vda ro",
                GuestCmdline.of(VmConfig.of(Path.of("k"), Path.of("i")).withReadOnly(true), List.of()));
        assertEquals("console=hvc0 " + GuestCmdline.BASE, GuestCmdline.of(VmConfig.of(Path.of("k"), null), List.of()));
    }

    @Test
    void aConsoleOnTheExtraCommandLineReplacesTheDefault() {
        VmConfig serial = VmConfig.of(Path.of("k"), null).withCmdline("console=ttyS0 quiet");
        assertEquals(GuestCmdline.BASE + " console=ttyS0 quiet", GuestCmdline.of(serial, List.of()));
        assertFalse(GuestCmdline.wantsVirtioConsole(GuestCmdline.of(serial, List.of())));
        assertTrue(GuestCmdline.wantsVirtioConsole(GuestCmdline.of(VmConfig.of(Path.of("k"), null), List.of())));
    }

    @Test
    void aVirtioConsoleIsAskedForByAnyConsoleOnAnHvc() {
        assertTrue(GuestCmdline.wantsVirtioConsole("console=hvc0 console=ttyS0"));
        assertTrue(GuestCmdline.wantsVirtioConsole("root=/dev/vda console=hvc1"));
        // After a lone "--" the words are init's: they name no console.
        assertFalse(GuestCmdline.wantsVirtioConsole("console=ttyS0 -- console=hvc0"));
        assertFalse(GuestCmdline.wantsVirtioConsole(""));
        assertFalse(GuestCmdline.wantsVirtioConsole("  root=/dev/vda  "));
        assertFalse(GuestCmdline.namesConsole("root=/dev/vda -- console=ttyS0"));
    }
    @Test
    void configDefaultsAndLimits() {
        VmConfig c = VmConfig.of(Path.of("k"), Path.of("i"));
        assertEquals(256L << 20, c.memoryBytes());
        assertEquals(1, c.vcpus());
        assertEquals(false, c.readOnly());
        assertThrows(VmException.class, () -> c.withVcpus(0));
        assertThrows(VmException.class, () -> c.withVcpus(255));
        assertThrows(VmException.class, () -> c.withMemory(1 << 20));
        assertThrows(VmException.class, () -> c.withMemory((256L << 20) + 1));
    }
}
