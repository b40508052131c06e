package hg.vmm.internal.builder;

import hg.kvm.sys.ThreadCpu;
import hg.vmm.CreateStep;

import java.util.ArrayList;
import java.util.List;

/**
 * The creating thread's CPU time per step of a create; one thread makes a VM, so one clock. A step
 * taken again (one per vCPU) adds to its first entry.
 */
public final class StepClock {
    private final List<CreateStep> steps = new ArrayList<>();
    private long last = ThreadCpu.nanos();

    /** Ends the step named {@code name}: the CPU used since the previous mark (or the clock's start). */
    public void mark(String name) {
        long now = ThreadCpu.nanos();
        long spent = now - last;
        last = now;
        for (int i = 0; i < steps.size(); i++) {
            if (steps.get(i).name().equals(name)) {
                steps.set(i, new CreateStep(name, steps.get(i).cpuNanos() + spent));
                return;
            }
        }
        steps.add(new CreateStep(name, spent));
    }

    public List<CreateStep> steps() {
        return List.copyOf(steps);
    }
}
