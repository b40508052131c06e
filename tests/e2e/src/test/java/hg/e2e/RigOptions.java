package hg.e2e;

import java.time.Duration;

/** Rig options for a nest that lives through a whole test class (several guest boots), not one test. */
final class RigOptions {
    private RigOptions() {}

    static NestedRig.Options named(String name, Duration hardTimeout) {
        NestedRig.Options o = NestedRig.Options.named(name);
        return new NestedRig.Options(o.name(), o.vga(), o.bare(), o.append(), o.debugShell(), o.initrd(), o.disk(),
                hardTimeout, o.uplinkWww(), o.medium());
    }
}
