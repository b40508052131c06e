package hg.shell.internal;

import java.io.OutputStream;
import java.util.List;

/** Used while this build has no VM manager: listing works and shows nothing, creating says why it cannot. */
public final class NoMachines implements Machines {
    private static final String WHY = "this build has no VM manager yet, so no VM can be made";

    @Override
    public int create(Spec spec) throws ShellException {
        throw new ShellException(WHY);
    }

    @Override
    public List<Info> list() {
        return List.of();
    }

    @Override
    public Console attach(int id, OutputStream sink) throws ShellException {
        throw new ShellException("no vm with id " + id + ": " + WHY);
    }

    @Override
    public void destroy(int id) throws ShellException {
        throw new ShellException("no vm with id " + id + ": " + WHY);
    }

    @Override
    public void close() {}
}
