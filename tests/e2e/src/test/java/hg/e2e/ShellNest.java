package hg.e2e;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.time.Duration;
import java.util.Optional;
import java.util.function.BiFunction;

/**
 * A nest that lives through a whole test class: the boot image under QEMU with the hyper-gen shell
 * ready on its serial console and, when the options ask for it, the nest's root shell on ttyS1.
 * Skips the class (an assumption) where this checkout has no boot image with a shell.
 */
final class ShellNest implements AutoCloseable {
    static final Duration BOOT = Duration.ofMinutes(4);
    private static final Duration COMMAND = Duration.ofSeconds(60);

    private final NestedRig rig;
    private final HgShell shell;
    private final ConsoleStream host;

    private ShellNest(NestedRig rig, HgShell shell, ConsoleStream host) {
        this.rig = rig;
        this.shell = shell;
        this.host = host;
    }

    /**
     * Boots nest {@code name} for at most {@code lifetime}; {@code options} may add to the rig's
     * options, given the boot image (to make an initramfs from it, say).
     */
    static ShellNest boot(String name, Duration lifetime,
                          BiFunction<BootImage, NestedRig.Options, NestedRig.Options> options) {
        Optional<BootImage> found = BootImage.find();
        assumeTrue(found.isPresent(), "no boot image in this checkout: run ./hg build (or ./hg test)");
        BootImage image = found.get();
        assumeTrue(image.main() == BootImage.Main.SHELL, "the boot image has no hyper-gen shell to create VMs with");
        NestedRig.Options o = options.apply(image, RigOptions.named(name, lifetime));
        NestedRig rig = NestedRig.start(image, o);
        try {
            HgShell shell = new HgShell(rig.serial());
            shell.awaitReady(BOOT);
            ConsoleStream host = null;
            if (o.debugShell()) {
                host = rig.debugShell();
                host.waitFor(NestedRig.DEBUG_PROMPT, BOOT);
            }
            System.out.printf("e2e: %s nest: shell ready at %.1f s wall%n", name, rig.elapsedSeconds());
            return new ShellNest(rig, shell, host);
        } catch (RuntimeException | Error e) {
            rig.close();
            throw e;
        }
    }

    static ShellNest boot(String name, Duration lifetime) {
        return boot(name, lifetime, (image, o) -> o);
    }

    NestedRig rig() {
        return rig;
    }

    HgShell shell() {
        return shell;
    }

    /** The nest's root shell (busybox sh on ttyS1): the host side of what a test checks. */
    ConsoleStream host() {
        if (host == null) {
            throw new IllegalStateException("this nest was booted without a root shell (Options.withDebugShell)");
        }
        return host;
    }

    /** Back at a fresh hyper-gen prompt, even when the step before failed half-way. */
    void resync() {
        shell.resync(COMMAND);
    }

    /** Closes {@code nest} if it was booted (a class whose boot was skipped or failed has none). */
    static void close(ShellNest nest) {
        if (nest != null) {
            nest.close();
        }
    }

    @Override
    public void close() {
        rig.close();
    }
}
