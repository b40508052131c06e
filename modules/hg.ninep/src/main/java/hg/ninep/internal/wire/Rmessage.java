package hg.ninep.internal.wire;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/** The replies of 9P2000.L, one record each, with their wire format. */
public sealed interface Rmessage extends Message {

    record Rlerror(int ecode) implements Rmessage {
        public static final int SIZE = Wire.HEADER + 4;

        public int type() { return 7; }
        public void encode(WireWriter w) { w.u32(ecode); }
    }

    record Rstatfs(int fsType, int bsize, long blocks, long bfree, long bavail, long files, long ffree,
                   long fsid, int namelen) implements Rmessage {
        public int type() { return 9; }
        public void encode(WireWriter w) {
            w.u32(fsType).u32(bsize).u64(blocks).u64(bfree).u64(bavail).u64(files).u64(ffree).u64(fsid).u32(namelen);
        }
    }

    record Rlopen(Qid qid, int iounit) implements Rmessage {
        public int type() { return 13; }
        public void encode(WireWriter w) { w.qid(qid).u32(iounit); }
    }

    record Rlcreate(Qid qid, int iounit) implements Rmessage {
        public int type() { return 15; }
        public void encode(WireWriter w) { w.qid(qid).u32(iounit); }
    }

    record Rsymlink(Qid qid) implements Rmessage {
        public int type() { return 17; }
        public void encode(WireWriter w) { w.qid(qid); }
    }

    record Rmknod(Qid qid) implements Rmessage {
        public int type() { return 19; }
        public void encode(WireWriter w) { w.qid(qid); }
    }

    record Rrename() implements Rmessage {
        public int type() { return 21; }
        public void encode(WireWriter w) { }
    }

    record Rreadlink(String target) implements Rmessage {
        public int type() { return 23; }
        public void encode(WireWriter w) { w.str(target); }
    }

    record Rgetattr(long valid, Qid qid, int mode, int uid, int gid, long nlink, long rdev, long size,
                    long blksize, long blocks, long atimeSec, long atimeNsec, long mtimeSec, long mtimeNsec,
                    long ctimeSec, long ctimeNsec, long btimeSec, long btimeNsec, long gen, long dataVersion)
            implements Rmessage {
        public static final long BASIC = 0x7ff;
        public static final long BTIME = 0x800;

        public int type() { return 25; }
        public void encode(WireWriter w) {
            w.u64(valid).qid(qid).u32(mode).u32(uid).u32(gid).u64(nlink).u64(rdev).u64(size).u64(blksize)
                    .u64(blocks).u64(atimeSec).u64(atimeNsec).u64(mtimeSec).u64(mtimeNsec).u64(ctimeSec)
                    .u64(ctimeNsec).u64(btimeSec).u64(btimeNsec).u64(gen).u64(dataVersion);
        }
    }

    record Rsetattr() implements Rmessage {
        public int type() { return 27; }
        public void encode(WireWriter w) { }
    }

    record Rxattrwalk(long size) implements Rmessage {
        public int type() { return 31; }
        public void encode(WireWriter w) { w.u64(size); }
    }

    record Rxattrcreate() implements Rmessage {
        public int type() { return 33; }
        public void encode(WireWriter w) { }
    }

    /** {@code data}: packed entries (qid, offset[8], type[1], name[s]); equality is by content. */
    record Rreaddir(ByteBuffer data) implements Rmessage {
        public int type() { return 41; }
        public void encode(WireWriter w) { w.u32(data.remaining()).data(data); }
    }

    record Rfsync() implements Rmessage {
        public int type() { return 51; }
        public void encode(WireWriter w) { }
    }

    record Rlock(int status) implements Rmessage {
        public static final int SUCCESS = 0;

        public int type() { return 53; }
        public void encode(WireWriter w) { w.u8(status); }
    }

    record Rgetlock(int lockType, long start, long length, int procId, String clientId) implements Rmessage {
        public static final int UNLOCKED = 2;

        public int type() { return 55; }
        public void encode(WireWriter w) { w.u8(lockType).u64(start).u64(length).u32(procId).str(clientId); }
    }

    record Rlink() implements Rmessage {
        public int type() { return 71; }
        public void encode(WireWriter w) { }
    }

    record Rmkdir(Qid qid) implements Rmessage {
        public int type() { return 73; }
        public void encode(WireWriter w) { w.qid(qid); }
    }

    record Rrenameat() implements Rmessage {
        public int type() { return 75; }
        public void encode(WireWriter w) { }
    }

    record Runlinkat() implements Rmessage {
        public int type() { return 77; }
        public void encode(WireWriter w) { }
    }

    record Rversion(int msize, String version) implements Rmessage {
        public int type() { return 101; }
        public void encode(WireWriter w) { w.u32(msize).str(version); }
    }

    record Rattach(Qid qid) implements Rmessage {
        public int type() { return 105; }
        public void encode(WireWriter w) { w.qid(qid); }
    }

    record Rflush() implements Rmessage {
        public int type() { return 109; }
        public void encode(WireWriter w) { }
    }

    record Rwalk(List<Qid> qids) implements Rmessage {
        public Rwalk {
            qids = List.copyOf(qids);
        }

        public int type() { return 111; }
        public void encode(WireWriter w) {
            w.u16(qids.size());
            qids.forEach(w::qid);
        }
    }

    /** {@code data}: the bytes read; equality is by content. */
    record Rread(ByteBuffer data) implements Rmessage {
        /** Header and count: what a reply takes besides the data. */
        public static final int OVERHEAD = Wire.HEADER + 4;

        public int type() { return 117; }
        public void encode(WireWriter w) { w.u32(data.remaining()).data(data); }
    }

    record Rwrite(int count) implements Rmessage {
        public int type() { return 119; }
        public void encode(WireWriter w) { w.u32(count); }
    }

    record Rclunk() implements Rmessage {
        public int type() { return 121; }
        public void encode(WireWriter w) { }
    }

    record Rremove() implements Rmessage {
        public int type() { return 123; }
        public void encode(WireWriter w) { }
    }

    static Rmessage decode(int type, WireReader r) throws DecodeException {
        return switch (type) {
            case 7 -> new Rlerror(r.u32());
            case 9 -> new Rstatfs(r.u32(), r.u32(), r.u64(), r.u64(), r.u64(), r.u64(), r.u64(), r.u64(), r.u32());
            case 13 -> new Rlopen(r.qid(), r.u32());
            case 15 -> new Rlcreate(r.qid(), r.u32());
            case 17 -> new Rsymlink(r.qid());
            case 19 -> new Rmknod(r.qid());
            case 21 -> new Rrename();
            case 23 -> new Rreadlink(r.str());
            case 25 -> new Rgetattr(r.u64(), r.qid(), r.u32(), r.u32(), r.u32(), r.u64(), r.u64(), r.u64(), r.u64(),
                    r.u64(), r.u64(), r.u64(), r.u64(), r.u64(), r.u64(), r.u64(), r.u64(), r.u64(), r.u64(), r.u64());
            case 27 -> new Rsetattr();
            case 31 -> new Rxattrwalk(r.u64());
            case 33 -> new Rxattrcreate();
            case 41 -> new Rreaddir(r.data(r.u32()));
            case 51 -> new Rfsync();
            case 53 -> new Rlock(r.u8());
            case 55 -> new Rgetlock(r.u8(), r.u64(), r.u64(), r.u32(), r.str());
            case 71 -> new Rlink();
            case 73 -> new Rmkdir(r.qid());
            case 75 -> new Rrenameat();
            case 77 -> new Runlinkat();
            case 101 -> new Rversion(r.u32(), r.str());
            case 105 -> new Rattach(r.qid());
            case 109 -> new Rflush();
            case 111 -> {
                int n = r.u16();
                if (n > Wire.MAX_WALK) {
                    throw new DecodeException(Wire.E2BIG, "walk reply of " + n + " qids");
                }
                List<Qid> qids = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    qids.add(r.qid());
                }
                yield new Rwalk(qids);
            }
            case 117 -> new Rread(r.data(r.u32()));
            case 119 -> new Rwrite(r.u32());
            case 121 -> new Rclunk();
            case 123 -> new Rremove();
            default -> throw new DecodeException(Wire.EOPNOTSUPP, "no reply of type " + type);
        };
    }
}
