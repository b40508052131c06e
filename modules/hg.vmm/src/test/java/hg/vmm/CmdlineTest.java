package hg.vmm;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class CmdlineTest {

    @Test
    void linuxGetsConsoleDiskRebootPathAndDevices() {
        VmConfig c = VmConfig.of(Path.of("vmlinux"), Path.of("root.img")).withCmdline(" init=/bin/sh ");
        assertEquals("console=ttyS0 reboot=k panic=1 pci=off nomodules i8042.noaux i8042.nomux i8042.nopnp"
                        + " i8042.dumbkbd hg_boot_marker=0xd0f00000 root=/dev/vda rw virtio_mmio.device=4K@0xd0000000:5 init=/bin/sh",
                GuestCmdline.of(c, List.of("virtio_mmio.device=4K@0xd0000000:5")));
        assertEquals(GuestCmdline.BASE + " root=/dev/vda ro",
                GuestCmdline.of(VmConfig.of(Path.of("k"), Path.of("i")).withReadOnly(true), List.of()));
        assertEquals(GuestCmdline.BASE, GuestCmdline.of(VmConfig.of(Path.of("k"), null), List.of()));
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
