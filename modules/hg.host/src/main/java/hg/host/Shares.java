package hg.host;

import hg.vmm.VmConfig;
import hg.vmm.VmException;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;

/** A shared directory as the shell and the API take it: an absolute path and a tag, the directory's name by default. */
public final class Shares {
    private Shares() {
    }

    /**
     * The share of {@code dir} under {@code tag} (null: the directory's own name); {@code what} names the request in
     * the one line a refusal is ({@code --share /srv/x}, {@code shares[0]}).
     */
    public static VmConfig.Share of(String dir, String tag, boolean readOnly, String what) throws HostException {
        Path p;
        try {
            p = Path.of(dir);
        } catch (InvalidPathException e) {
            throw new HostException(what + ": not a path");
        }
        if (!p.isAbsolute()) {
            throw new HostException(what + ": give the directory's absolute path, e.g. /srv/src");
        }
        String t = tag != null ? tag : p.getFileName() == null ? "" : p.getFileName().toString();
        try {
            return new VmConfig.Share(p, t, readOnly);
        } catch (VmException e) {
            throw new HostException(what + ": " + e.getMessage() + (tag == null ? "; give it a tag" : ""));
        }
    }
}
