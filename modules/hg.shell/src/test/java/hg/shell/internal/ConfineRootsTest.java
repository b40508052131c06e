package hg.shell.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import hg.kvm.net.Nft;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The roots a --confine shell keeps: its directories, runtime and devices, and /etc only file by file. */
class ConfineRootsTest {
    @Test
    void theGivenDirectoriesTheRuntimeAndTheDevicesButNotEtc() {
        var r = Confine.roots(Path.of("/srv/kernels"), Path.of("/srv/images"), "/opt/hyper-gen",
                "/a/lib/x.jar:/a/classes", List.of(Path.of("/dev/ttyS0")));
        assertTrue(r.readOnly().containsAll(List.of(Path.of("/srv/kernels"), Path.of("/opt/hyper-gen"),
                Path.of("/a/lib/x.jar"), Path.of("/a/classes"), Path.of("/etc/ld.so.cache"), Path.of("/proc/self"))));
        assertTrue(r.readWrite().containsAll(List.of(Path.of("/srv/images"), Path.of("/dev/kvm"),
                Path.of("/dev/net/tun"), Path.of("/dev/vhost-net"), Path.of("/dev/ttyS0"), Path.of("/run/hyper-gen"))));
        for (Path p : concat(r)) {
            assertFalse(p.equals(Path.of("/etc")) || p.equals(Path.of("/")) || p.equals(Path.of("/tmp"))
                    || p.equals(Path.of("/proc")) || p.equals(Path.of("/dev")), "too wide a root: " + p);
            assertFalse(Path.of("/etc/shadow").startsWith(p), p + " would let /etc/shadow be read");
        }
        Nft.program().ifPresent(nft -> assertTrue(r.readOnly().contains(nft), "nft, which loads the guest filter"));
        assertFalse(r.readOnly().contains(Path.of("/srv/images")));
        assertTrue(r.readOnly().stream().noneMatch(r.readWrite()::contains), "a root is read-only or read-write");
    }

    @Test
    void withoutDirectoriesOrAModulePath() {
        var r = Confine.roots(null, null, "/opt/hyper-gen", null, List.of());
        assertEquals(Path.of("/opt/hyper-gen"), r.readOnly().getFirst());
        assertTrue(r.readWrite().contains(Path.of("/dev/kvm")));
    }

    private static List<Path> concat(hg.kvm.sys.VmmRoots r) {
        return java.util.stream.Stream.concat(r.readOnly().stream(), r.readWrite().stream()).toList();
    }

    @Test
    void theSnapshotAndCloneDirectoriesAreWritable() {
        var r = Confine.roots(Path.of("/srv/kernels"), Path.of("/srv/images"),
                List.of(Path.of("/srv/snap"), Path.of("/run/hyper-gen/clones")), "/opt/hyper-gen", null, List.of());
        assertTrue(r.readWrite().containsAll(List.of(Path.of("/srv/snap"), Path.of("/run/hyper-gen/clones"))));
        assertEquals(List.of(Path.of("/srv/snap"), Path.of("/srv/images"), Path.of("/run/hyper-gen")),
                Confine.snapshotRoots(Path.of("/srv/images"), List.of(Path.of("/srv/snap"))),
                "snapshots go where the confined shell may write files");
    }
}
