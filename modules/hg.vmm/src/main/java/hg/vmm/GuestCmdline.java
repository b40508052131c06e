package hg.vmm;

import hg.vmm.internal.pseudo.BootTimer;

import java.util.List;

/** The kernel command line hyper-gen gives a guest: a pure function of the configuration and its devices. */
public final class GuestCmdline {
    /** Where the guest's init writes to say it started (see {@link Vm#bootMarks()}). */
    public static final long BOOT_MARKER_ADDRESS = BootTimer.ADDRESS;

    /**
     * What Linux needs to find its disk and reboot path here; no PCI, no ACPI tables.
     * hg_boot_marker reaches the guest's init as an environment variable; hyper-gen's default
     * rootfs writes to that address first thing, which {@link Vm#bootMarks()} records as "init reached".
     */
    public static final String BASE =
            "reboot=k panic=1 pci=off nomodules i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd"
                    + " hg_boot_marker=0x" + Long.toHexString(BOOT_MARKER_ADDRESS);

    /**
     * The console a guest gets unless its extra command line names one: the virtio console, which takes
     * the kernel's output 16 bytes a notification where the 16550 (still there as ttyS0, for
     * {@code console=ttyS0}) takes an exit a byte. Cloud Hypervisor's default too.
     */
    public static final String DEFAULT_CONSOLE = "console=hvc0";

    private GuestCmdline() {}

    /** The command line for {@code config} with the devices' announcements ({@code virtio_mmio.device=...}, {@code ip=...}). */
    public static String of(VmConfig config, List<String> deviceEntries) {
        StringBuilder b = new StringBuilder();
        if (!namesConsole(config.cmdlineExtra())) {
            b.append(DEFAULT_CONSOLE).append(' ');
        }
        b.append(BASE);
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

    /**
     * Whether a whole command line asks for a virtio console: a {@code console=} names an hvc device. Words
     * after a lone {@code --} are init's, not the kernel's.
     */
    public static boolean wantsVirtioConsole(String cmdline) {
        return kernelWords(cmdline).stream().anyMatch(w -> w.startsWith("console=hvc"));
    }

    /** Whether a command line names a console of its own ({@code console=...}), so a guest gets no default one. */
    public static boolean namesConsole(String cmdline) {
        return kernelWords(cmdline).stream().anyMatch(w -> w.startsWith("console="));
    }

    private static List<String> kernelWords(String cmdline) {
        List<String> words = List.of(cmdline.strip().split("\\s+"));
        int end = words.indexOf("--");
        return end < 0 ? words : words.subList(0, end);
    }
}
