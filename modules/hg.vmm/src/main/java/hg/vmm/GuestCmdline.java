package hg.vmm;

import hg.vmm.internal.pseudo.BootTimer;

import java.util.List;

/** The kernel command line hyper-gen gives a guest: a pure function of the configuration and its devices. */
public final class GuestCmdline {
    /** Where the guest's init writes to say it started (see {@link Vm#bootMarks()}). */
    public static final long BOOT_MARKER_ADDRESS = BootTimer.ADDRESS;

    /**
     * What Linux needs to find its console, disk and reboot path here; no PCI, no ACPI tables.
     * hg_boot_marker reaches the guest's init as an environment variable; hyper-gen's default
     * rootfs writes to that address first thing, which {@link Vm#bootMarks()} records as "init reached".
     */
    public static final String BASE =
            "console=ttyS0 reboot=k panic=1 pci=off nomodules i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd"
                    + " hg_boot_marker=0x" + Long.toHexString(BOOT_MARKER_ADDRESS);

    private GuestCmdline() {}

    /** The command line for {@code config} with the devices' announcements ({@code virtio_mmio.device=...}, {@code ip=...}). */
    public static String of(VmConfig config, List<String> deviceEntries) {
        StringBuilder b = new StringBuilder(BASE);
        if (config.image().isPresent()) {
            b.append(" root=/dev/vda ").append(config.readOnly() ? "ro" : "rw");
        }
        for (String d : deviceEntries) {
            b.append(' ').append(d);
        }
        if (!config.cmdlineExtra().isEmpty()) {
            b.append(' ').append(config.cmdlineExtra());
        }
        return b.toString();
    }
}
