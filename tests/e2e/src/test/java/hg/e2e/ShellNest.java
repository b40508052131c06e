package hg.e2e;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.time.Duration;
import java.util.Optional;
import java.util.function.BiFunction;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A nest that lives through a whole test class, registered as a static extension field: before the
 * class, the boot image boots under QEMU with the hyper-gen shell ready on its serial console (and
 * the nest's root shell on ttyS1 when the options ask for it); before each test, the shell is back
 * at a fresh prompt even when the step before failed half-way; after the class, QEMU is gone. The
 * class is skipped (an assumption) where this checkout has no boot image with a shell.
 */
final class ShellNest implements BeforeAllCallback, BeforeEachCallback, AfterAllCallback {
    static final Duration BOOT = Duration.ofMinutes(4);
    private static final Duration COMMAND = Duration.ofSeconds(60);

    private final String name;
    private final Duration lifetime;
    private final BiFunction<BootImage, NestedRig.Options, NestedRig.Options> options;
    private NestedRig rig;
    private HgShell shell;
    private ConsoleStream host;

    /**
     * Nest {@code name}, up for at most {@code lifetime}; {@code options} may add to the rig's
     * options, given the boot image (to make an initramfs from it, say).
     */
    ShellNest(String name, Duration lifetime, BiFunction<BootImage, NestedRig.Options, NestedRig.Options> options) {
        this.name = name;
        this.lifetime = lifetime;
        this.options = options;
    }

    ShellNest(String name, Duration lifetime) {
        this(name, lifetime, (image, o) -> o);
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        Optional<BootImage> found = BootImage.find();
        assumeTrue(found.isPresent(), "no boot image in this checkout: run ./hg build (or ./hg test)");
        BootImage image = found.get();
        NestedRig.Options o = options.apply(image, RigOptions.named(name, lifetime));
        rig = NestedRig.start(image, o);
        shell = new HgShell(rig.serial());
        shell.awaitReady(BOOT);
        if (o.debugShell()) {
            host = rig.debugShell();
            host.waitFor(NestedRig.DEBUG_PROMPT, BOOT);
        }
        System.out.printf("e2e: %s nest: shell ready at %.1f s wall%n", name, rig.elapsedSeconds());
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        shell.resync(COMMAND);
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (rig != null) {
            rig.close();
        }
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
}
