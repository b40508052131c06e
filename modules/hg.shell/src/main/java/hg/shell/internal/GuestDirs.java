package hg.shell.internal;

import hg.host.DirectoryCatalog;
import hg.host.HostException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Where the guest kernels, images, snapshots and shared folders are: from the flags, else from guest_kernel=,
 * guest_image=, guest_snapshot= and guest_share= on /proc/cmdline.
 *
 * @param snapshotDir where snapshots may go and clones live, or null for the default
 * @param shareDir    the directory whose subdirectories alone may be shared with guests, or null: any directory
 */
public record GuestDirs(Path kernelDir, String kernelNotGiven, Path imageDir, String imageNotGiven, Path snapshotDir,
                        Path shareDir) {

    public static GuestDirs resolve(Path kernelFlag, Path imageFlag, Path procCmdline) {
        return resolve(kernelFlag, imageFlag, null, procCmdline);
    }

    public static GuestDirs resolve(Path kernelFlag, Path imageFlag, Path snapshotFlag, Path procCmdline) {
        return resolve(kernelFlag, imageFlag, snapshotFlag, null, procCmdline);
    }

    public static GuestDirs resolve(Path kernelFlag, Path imageFlag, Path snapshotFlag, Path shareFlag, Path procCmdline) {
        String cmdline = null;
        String cmdlineProblem = null;
        if (kernelFlag == null || imageFlag == null || snapshotFlag == null || shareFlag == null) {
            try {
                cmdline = Files.readString(procCmdline);
            } catch (IOException | RuntimeException e) {
                cmdlineProblem = procCmdline + " cannot be read (" + DirectoryCatalog.reason(e) + ")";
            }
        }
        Path kernel = kernelFlag != null ? kernelFlag : param(cmdline, "guest_kernel");
        Path image = imageFlag != null ? imageFlag : param(cmdline, "guest_image");
        Path snapshot = snapshotFlag != null ? snapshotFlag : param(cmdline, "guest_snapshot");
        Path share = shareFlag != null ? shareFlag : param(cmdline, "guest_share");
        return new GuestDirs(kernel, notGiven("kernel", cmdlineProblem), image, notGiven("image", cmdlineProblem),
                snapshot, share);
    }

    private static String notGiven(String what, String cmdlineProblem) {
        return "no guest " + what + " directory: start with --guest-" + what + " DIR or boot with guest_" + what
                + "=DIR on the kernel command line" + (cmdlineProblem != null ? " (" + cmdlineProblem + ")" : "");
    }

    /** The value of {@code name=} on a kernel command line (the last one wins, as in the kernel), or null. */
    static Path param(String cmdline, String name) {
        if (cmdline == null) {
            return null;
        }
        List<String> words;
        try {
            words = Words.split(cmdline.strip());
        } catch (HostException e) {
            words = List.of(cmdline.strip().split("\\s+"));
        }
        String value = null;
        for (String w : words) {
            if (w.startsWith(name + "=")) {
                value = w.substring(name.length() + 1);
            }
        }
        return value == null || value.isEmpty() ? null : Path.of(value);
    }
}
