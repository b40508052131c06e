package hg.ninep.internal.wire;

import hg.ninep.internal.wire.Rmessage.*;
import hg.ninep.internal.wire.Tmessage.*;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Every message type with random fields, for the round-trip and fuzz properties. */
public final class RandomMessages {
    private RandomMessages() {}

    static final int T_TYPES = 28;
    static final int R_TYPES = 29;

    static String str(Random r) {
        int n = r.nextInt(r.nextInt(10) == 0 ? 300 : 20);
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < n; i++) {
            b.append((char) (1 + r.nextInt(255)));   // any byte but NUL
        }
        return b.toString();
    }

    static ByteBuffer data(Random r) {
        byte[] b = new byte[r.nextInt(r.nextInt(10) == 0 ? 5000 : 64)];
        r.nextBytes(b);
        return ByteBuffer.wrap(b);
    }

    static Qid qid(Random r) {
        return new Qid(r.nextInt(256), r.nextInt(), r.nextLong());
    }

    public static Tmessage t(Random r) {
        int i = r.nextInt(T_TYPES);
        return switch (i) {
            case 0 -> new Tstatfs(r.nextInt());
            case 1 -> new Tlopen(r.nextInt(), r.nextInt());
            case 2 -> new Tlcreate(r.nextInt(), str(r), r.nextInt(), r.nextInt(), r.nextInt());
            case 3 -> new Tsymlink(r.nextInt(), str(r), str(r), r.nextInt());
            case 4 -> new Tmknod(r.nextInt(), str(r), r.nextInt(), r.nextInt(), r.nextInt(), r.nextInt());
            case 5 -> new Trename(r.nextInt(), r.nextInt(), str(r));
            case 6 -> new Treadlink(r.nextInt());
            case 7 -> new Tgetattr(r.nextInt(), r.nextLong());
            case 8 -> new Tsetattr(r.nextInt(), r.nextInt(), r.nextInt(), r.nextInt(), r.nextInt(), r.nextLong(),
                    r.nextLong(), r.nextLong(), r.nextLong(), r.nextLong());
            case 9 -> new Txattrwalk(r.nextInt(), r.nextInt(), str(r));
            case 10 -> new Txattrcreate(r.nextInt(), str(r), r.nextLong(), r.nextInt());
            case 11 -> new Treaddir(r.nextInt(), r.nextLong(), r.nextInt());
            case 12 -> new Tfsync(r.nextInt(), r.nextInt());
            case 13 -> new Tlock(r.nextInt(), r.nextInt(256), r.nextInt(), r.nextLong(), r.nextLong(), r.nextInt(), str(r));
            case 14 -> new Tgetlock(r.nextInt(), r.nextInt(256), r.nextLong(), r.nextLong(), r.nextInt(), str(r));
            case 15 -> new Tlink(r.nextInt(), r.nextInt(), str(r));
            case 16 -> new Tmkdir(r.nextInt(), str(r), r.nextInt(), r.nextInt());
            case 17 -> new Trenameat(r.nextInt(), str(r), r.nextInt(), str(r));
            case 18 -> new Tunlinkat(r.nextInt(), str(r), r.nextInt());
            case 19 -> new Tversion(r.nextInt(), str(r));
            case 20 -> new Tauth(r.nextInt(), str(r), str(r), r.nextInt());
            case 21 -> new Tattach(r.nextInt(), r.nextInt(), str(r), str(r), r.nextInt());
            case 22 -> new Tflush(r.nextInt(65536));
            case 23 -> {
                List<String> names = new ArrayList<>();
                int n = r.nextInt(Wire.MAX_WALK + 1);
                for (int k = 0; k < n; k++) {
                    names.add(str(r));
                }
                yield new Twalk(r.nextInt(), r.nextInt(), names);
            }
            case 24 -> new Tread(r.nextInt(), r.nextLong(), r.nextInt());
            case 25 -> new Twrite(r.nextInt(), r.nextLong(), data(r));
            case 26 -> new Tclunk(r.nextInt());
            default -> new Tremove(r.nextInt());
        };
    }

    public static Rmessage r(Random r) {
        int i = r.nextInt(R_TYPES);
        return switch (i) {
            case 0 -> new Rlerror(r.nextInt());
            case 1 -> new Rstatfs(r.nextInt(), r.nextInt(), r.nextLong(), r.nextLong(), r.nextLong(), r.nextLong(),
                    r.nextLong(), r.nextLong(), r.nextInt());
            case 2 -> new Rlopen(qid(r), r.nextInt());
            case 3 -> new Rlcreate(qid(r), r.nextInt());
            case 4 -> new Rsymlink(qid(r));
            case 5 -> new Rmknod(qid(r));
            case 6 -> new Rrename();
            case 7 -> new Rreadlink(str(r));
            case 8 -> {
                long[] v = r.longs(19).toArray();
                yield new Rgetattr(v[0], qid(r), r.nextInt(), r.nextInt(), r.nextInt(), v[1], v[2], v[3], v[4], v[5],
                        v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13], v[14], v[15]);
            }
            case 9 -> new Rsetattr();
            case 10 -> new Rxattrwalk(r.nextLong());
            case 11 -> new Rxattrcreate();
            case 12 -> new Rreaddir(data(r));
            case 13 -> new Rfsync();
            case 14 -> new Rlock(r.nextInt(256));
            case 15 -> new Rgetlock(r.nextInt(256), r.nextLong(), r.nextLong(), r.nextInt(), str(r));
            case 16 -> new Rlink();
            case 17 -> new Rmkdir(qid(r));
            case 18 -> new Rrenameat();
            case 19 -> new Runlinkat();
            case 20 -> new Rversion(r.nextInt(), str(r));
            case 21 -> new Rattach(qid(r));
            case 22 -> new Rflush();
            case 23 -> {
                List<Qid> qids = new ArrayList<>();
                int n = r.nextInt(Wire.MAX_WALK + 1);
                for (int k = 0; k < n; k++) {
                    qids.add(qid(r));
                }
                yield new Rwalk(qids);
            }
            case 24 -> new Rread(data(r));
            case 25 -> new Rwrite(r.nextInt());
            case 26 -> new Rclunk();
            case 27 -> new Rremove();
            default -> new Rlerror(r.nextInt(200));
        };
    }

    /** A message as bytes, in a buffer of exactly its size. */
    public static ByteBuffer bytes(int tag, Message m) {
        ByteBuffer b = ByteBuffer.allocate(70_000);
        int n = Wire.encode(tag, m, b);
        return ByteBuffer.wrap(java.util.Arrays.copyOf(b.array(), n));
    }
}
