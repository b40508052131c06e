package hg.vmm.internal.snapshot;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Issue 16: every state round-trips byte for byte, and whatever a damaged, truncated or crafted
 * state file holds, loading it ends in one {@link SnapshotFormatException} of one line, never
 * another exception and never an allocation the file's size does not pay for.
 */
class SnapshotCodecPropertiesTest {

    @Provide
    Arbitrary<VmSnapshot> snapshots() {
        return SnapshotArbitraries.snapshot();
    }

    @Property(tries = 50)
    void everySnapshotRoundTripsByteIdentical(@ForAll("snapshots") VmSnapshot s) throws Exception {
        byte[] encoded = SnapshotCodec.encode(s);
        VmSnapshot decoded = SnapshotCodec.decode(encoded);
        assertEquals(s, decoded);
        assertEquals(s.hashCode(), decoded.hashCode());
        assertArrayEquals(encoded, SnapshotCodec.encode(decoded));
    }

    @Property(tries = 100)
    void framesRoundTrip(@ForAll @Size(max = 5000) byte[] payload) throws Exception {
        byte[] framed = SnapshotFile.frame(payload);
        assertArrayEquals(payload, SnapshotFile.unframe(framed));
        assertArrayEquals(framed, SnapshotFile.frame(SnapshotFile.unframe(framed)));
    }

    // ---- damage to a framed state

    /** What a file can suffer: one bit flipped, its end cut off, bytes added after it. */
    record Damage(int kind, int where, int bit, byte[] extra) {
        byte[] apply(byte[] file) {
            return switch (kind) {
                case 0 -> {
                    byte[] d = file.clone();
                    d[Math.floorMod(where, d.length)] ^= (byte) (1 << bit);
                    yield d;
                }
                case 1 -> Arrays.copyOf(file, Math.floorMod(where, file.length));
                default -> {
                    byte[] d = Arrays.copyOf(file, file.length + extra.length);
                    System.arraycopy(extra, 0, d, file.length, extra.length);
                    yield d;
                }
            };
        }
    }

    @Provide
    Arbitrary<List<Damage>> damage() {
        return Combinators.combine(Arbitraries.integers().between(0, 2), Arbitraries.integers(),
                Arbitraries.integers().between(0, 7), Arbitraries.bytes().array(byte[].class).ofMinSize(1).ofMaxSize(64))
                .as(Damage::new).list().ofMinSize(1).ofMaxSize(8);
    }

    @Property(tries = 25)
    void damagedTruncatedOrExtendedFilesAreRefused(@ForAll("snapshots") VmSnapshot s,
                                                   @ForAll("damage") List<Damage> damage) {
        byte[] file = SnapshotFile.frame(SnapshotCodec.encode(s));
        for (Damage d : damage) {
            refused(() -> SnapshotCodec.decode(SnapshotFile.unframe(d.apply(file))));
        }
    }

    @Property(tries = 30)
    void everyBitOfTheHeaderAndDigestIsChecked(@ForAll @Size(max = 300) byte[] payload) {
        byte[] file = SnapshotFile.frame(payload);
        for (int i = 0; i < file.length; i++) {
            if (i >= 24 && i < file.length - 32 && i % 13 != 0) {
                continue;  // the payload is checked by the digest alone; a sample of it will do
            }
            for (int bit = 0; bit < 8; bit++) {
                byte[] d = file.clone();
                d[i] ^= (byte) (1 << bit);
                refused(() -> SnapshotFile.unframe(d));
            }
        }
        for (int n = 0; n < file.length; n++) {
            int length = n;
            refused(() -> SnapshotFile.unframe(Arrays.copyOf(file, length)));
        }
    }

    // ---- crafted payloads in valid frames

    /** Values that break a careless reader when they land on a count, a length or a tag. */
    static final long[] HOSTILE = {0, 1, 0xff, 0x7fff_ffffL, 0x8000_0000L, 0xffff_ffffL, 0xffff_fffeL, 0x1_0000L,
            SnapshotCodec.MAX_VCPUS + 1, SnapshotCodec.MAX_TEXT + 1, KvmStateCodec.MAX_MSRS + 1, KvmStateCodec.MAX_XSAVE,
            KvmStateCodec.MAX_XSAVE + 1, Long.MIN_VALUE, -1L, Long.MAX_VALUE};

    /** One edit of a payload; {@code where} is taken modulo the payload's length. */
    record Mutation(int kind, int where, long value, int length) {
        byte[] apply(byte[] p) {
            if (p.length == 0) {
                return p;
            }
            int at = Math.floorMod(where, p.length);
            byte[] d = p.clone();
            switch (kind) {
                case 0 -> d[at] ^= (byte) (1 << (value & 7));
                case 1 -> d[at] = (byte) value;
                case 2, 3 -> {
                    int width = kind == 2 ? 4 : 8;
                    for (int i = 0; i < width && at + i < d.length; i++) {
                        d[at + i] = (byte) (value >>> (8 * i));
                    }
                }
                case 4 -> {
                    byte[] e = new byte[p.length + length];
                    System.arraycopy(p, 0, e, 0, at);
                    Arrays.fill(e, at, at + length, (byte) value);
                    System.arraycopy(p, at, e, at + length, p.length - at);
                    return e;
                }
                case 5 -> {
                    int n = Math.min(length, p.length - at);
                    byte[] e = new byte[p.length - n];
                    System.arraycopy(p, 0, e, 0, at);
                    System.arraycopy(p, at + n, e, at, p.length - at - n);
                    return e;
                }
                default -> {
                    return Arrays.copyOf(p, at);
                }
            }
            return d;
        }
    }

    @Provide
    Arbitrary<List<Mutation>> mutations() {
        Arbitrary<Long> value = Arbitraries.frequencyOf(
                Tuple.of(2, Arbitraries.of(Arrays.stream(HOSTILE).boxed().toList())),
                Tuple.of(1, Arbitraries.longs()));
        return Combinators.combine(Arbitraries.integers().between(0, 6), Arbitraries.integers(), value,
                Arbitraries.integers().between(1, 40)).as(Mutation::new).list().ofMinSize(1).ofMaxSize(4);
    }

    /**
     * Whatever decode accepts, encode gives back byte for byte: the format has one spelling of
     * each state, so no field is read and then dropped or changed.
     */
    @Property(tries = 40)
    void mutatedPayloadsAreRefusedOrReadExactly(@ForAll("snapshots") VmSnapshot s,
                                                @ForAll("mutations") List<Mutation> mutations) {
        byte[] p = SnapshotCodec.encode(s);
        for (Mutation m : mutations) {
            p = m.apply(p);
        }
        decodesExactlyOrRefuses(p);
    }

    @Property(tries = 200)
    void arbitraryPayloadsAreRefused(@ForAll @Size(max = 2000) byte[] noise,
                                     @ForAll @IntRange(max = 4) int prefix) throws Exception {
        // A valid opening gets noise past the first tag and the machine section's strings.
        byte[] opening = new StateWriter().u32(SnapshotCodec.TAG_MACHINE).string("k").string("c").u64(1 << 20).u32(1)
                .toByteArray();
        byte[] p = Arrays.copyOf(opening, Math.min(opening.length, prefix * 6) + noise.length);
        System.arraycopy(noise, 0, p, Math.min(opening.length, prefix * 6), noise.length);
        decodesExactlyOrRefuses(SnapshotFile.unframe(SnapshotFile.frame(p)));
    }

    static void decodesExactlyOrRefuses(byte[] payload) {
        VmSnapshot decoded;
        try {
            decoded = SnapshotCodec.decode(payload);
        } catch (SnapshotFormatException e) {
            oneLine(e);
            return;
        } catch (Throwable t) {
            throw new AssertionError("decode threw " + t + " instead of a SnapshotFormatException", t);
        }
        assertArrayEquals(payload, SnapshotCodec.encode(decoded), "decode accepted a state that encodes otherwise");
    }

    interface Load {
        Object run() throws SnapshotFormatException;
    }

    static void refused(Load load) {
        try {
            Object o = load.run();
            fail("accepted: " + o);
        } catch (SnapshotFormatException e) {
            oneLine(e);
        } catch (Throwable t) {
            throw new AssertionError("threw " + t + " instead of a SnapshotFormatException", t);
        }
    }

    static void oneLine(SnapshotFormatException e) {
        assertNotNull(e.getMessage());
        assertFalse(e.getMessage().isBlank(), "an empty message");
        assertFalse(e.getMessage().contains("\n") || e.getMessage().contains("\r"), () -> "not one line: " + e.getMessage());
    }
}
