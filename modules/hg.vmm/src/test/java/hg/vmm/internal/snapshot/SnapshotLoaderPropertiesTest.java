package hg.vmm.internal.snapshot;

import hg.kvm.CpuidEntry;
import hg.vmm.VmException;
import hg.vmm.internal.builder.SnapshotLoader;
import hg.vmm.internal.virtio.block.DiskIdentity;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The loader after the codec: a state that decodes may still name files, devices and counts a
 * writer never would. Whatever it holds, loading ends in a snapshot or in one line.
 */
class SnapshotLoaderPropertiesTest {

    /** Names a crafted state may give a disk: outside the directory, empty, unprintable, not a path at all. */
    static final List<String> FILES = List.of("vda.img", "", ".", "..", "../vda.img", "/etc/passwd", "a/b", ".state",
            "vda.img\nsnapshot ok", "vda\0.img", "\u001b[2J", "state");
    static final List<String> DEVICES = List.of("vda", "", "vd\na", "vd\0a", "\r");

    record Hostile(String device, String file, boolean readOnly, String kernel, int vcpus, long memory) {
    }

    @Provide
    Arbitrary<Hostile> hostile() {
        return Combinators.combine(Arbitraries.of(DEVICES), Arbitraries.of(FILES), Arbitraries.of(true, false),
                Arbitraries.of("/boot/vmlinuz", "", "k\0", "k\nk"), Arbitraries.of(1, 2, 254, 255, 256, 288),
                Arbitraries.of(256L << 20, 0L, -4096L, (256L << 20) + 1)).as(Hostile::new);
    }

    @Property(tries = 60)
    void aCraftedStateIsLoadedOrRefusedWithOneLine(@ForAll("hostile") Hostile h, @ForAll @IntRange(max = 2) int disks)
            throws Exception {
        Path dir = Files.createTempDirectory("snapshot");
        try {
            Path image = Files.write(dir.resolve("vda.img"), new byte[4096]);
            DiskIdentity id = DiskIdentity.of(image);
            VmSnapshot base = SnapshotCodecBoundsTest.small();
            VmSnapshot.Vcpu vcpu = new VmSnapshot.Vcpu(List.of(), base.vcpus().getFirst().state());
            List<VmSnapshot.Disk> d = Collections.nCopies(disks, new VmSnapshot.Disk(h.device(), h.file(), h.readOnly(), id));
            VmSnapshot s = new VmSnapshot(new VmSnapshot.Machine(h.kernel(), "", h.memory(), h.vcpus(), d, 0, false),
                    base.machine(), Collections.nCopies(h.vcpus(), vcpu), base.serial(), base.i8042(), base.devices());
            SnapshotFile.write(new SnapshotLayout(dir).state(), SnapshotCodec.encode(s));
            load(dir);
        } finally {
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
    }

    static void load(Path dir) {
        try {
            SnapshotLoader.load(dir, List.of(new CpuidEntry(0, 0, 0, 0xd, 0, 0, 0)), false);
        } catch (VmException e) {
            assertTrue(e.getMessage().startsWith("snapshot " + dir + " refused: "), e.getMessage());
            assertFalse(e.getMessage().chars().anyMatch(Character::isISOControl), () -> "not one line: " + e.getMessage());
        } catch (Throwable t) {
            throw new AssertionError("the loader threw " + t + " instead of refusing with one line", t);
        }
    }

    @Property(tries = 20)
    void aDamagedStateFileIsRefusedWithOneLine(@ForAll @IntRange(min = 0, max = 100_000) int where,
                                               @ForAll @IntRange(max = 7) int bit) throws IOException {
        Path dir = Files.createTempDirectory("snapshot");
        try {
            Path state = new SnapshotLayout(dir).state();
            SnapshotFile.write(state, SnapshotCodec.encode(SnapshotCodecBoundsTest.small()));
            byte[] b = Files.readAllBytes(state);
            b[where % b.length] ^= (byte) (1 << bit);
            Files.write(state, b);
            load(dir);
        } finally {
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
    }
}
