package hg.ninep.internal.wire;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/** The requests of 9P2000.L that Linux's v9fs sends, one record each, with their wire format. */
public sealed interface Tmessage extends Message {

    record Tstatfs(int fid) implements Tmessage {
        public int type() { return 8; }
        public void encode(WireWriter w) { w.u32(fid); }
    }

    record Tlopen(int fid, int flags) implements Tmessage {
        public int type() { return 12; }
        public void encode(WireWriter w) { w.u32(fid).u32(flags); }
    }

    record Tlcreate(int fid, String name, int flags, int mode, int gid) implements Tmessage {
        public int type() { return 14; }
        public void encode(WireWriter w) { w.u32(fid).str(name).u32(flags).u32(mode).u32(gid); }
    }

    record Tsymlink(int fid, String name, String target, int gid) implements Tmessage {
        public int type() { return 16; }
        public void encode(WireWriter w) { w.u32(fid).str(name).str(target).u32(gid); }
    }

    record Tmknod(int dfid, String name, int mode, int major, int minor, int gid) implements Tmessage {
        public int type() { return 18; }
        public void encode(WireWriter w) { w.u32(dfid).str(name).u32(mode).u32(major).u32(minor).u32(gid); }
    }

    record Trename(int fid, int dfid, String name) implements Tmessage {
        public int type() { return 20; }
        public void encode(WireWriter w) { w.u32(fid).u32(dfid).str(name); }
    }

    record Treadlink(int fid) implements Tmessage {
        public int type() { return 22; }
        public void encode(WireWriter w) { w.u32(fid); }
    }

    record Tgetattr(int fid, long mask) implements Tmessage {
        public int type() { return 24; }
        public void encode(WireWriter w) { w.u32(fid).u64(mask); }
    }

    /** Which fields apply is in {@code valid} (the P9_ATTR_* bits). */
    record Tsetattr(int fid, int valid, int mode, int uid, int gid, long size,
                    long atimeSec, long atimeNsec, long mtimeSec, long mtimeNsec) implements Tmessage {
        public static final int MODE = 0x1;
        public static final int UID = 0x2;
        public static final int GID = 0x4;
        public static final int SIZE = 0x8;
        public static final int ATIME = 0x10;
        public static final int MTIME = 0x20;
        public static final int CTIME = 0x40;
        public static final int ATIME_SET = 0x80;
        public static final int MTIME_SET = 0x100;

        public int type() { return 26; }
        public void encode(WireWriter w) {
            w.u32(fid).u32(valid).u32(mode).u32(uid).u32(gid).u64(size)
                    .u64(atimeSec).u64(atimeNsec).u64(mtimeSec).u64(mtimeNsec);
        }
    }

    record Txattrwalk(int fid, int newfid, String name) implements Tmessage {
        public int type() { return 30; }
        public void encode(WireWriter w) { w.u32(fid).u32(newfid).str(name); }
    }

    record Txattrcreate(int fid, String name, long size, int flags) implements Tmessage {
        public int type() { return 32; }
        public void encode(WireWriter w) { w.u32(fid).str(name).u64(size).u32(flags); }
    }

    record Treaddir(int fid, long offset, int count) implements Tmessage {
        public int type() { return 40; }
        public void encode(WireWriter w) { w.u32(fid).u64(offset).u32(count); }
    }

    record Tfsync(int fid, int datasync) implements Tmessage {
        public int type() { return 50; }
        public void encode(WireWriter w) { w.u32(fid).u32(datasync); }
    }

    record Tlock(int fid, int lockType, int flags, long start, long length, int procId, String clientId)
            implements Tmessage {
        public int type() { return 52; }
        public void encode(WireWriter w) {
            w.u32(fid).u8(lockType).u32(flags).u64(start).u64(length).u32(procId).str(clientId);
        }
    }

    record Tgetlock(int fid, int lockType, long start, long length, int procId, String clientId)
            implements Tmessage {
        public int type() { return 54; }
        public void encode(WireWriter w) { w.u32(fid).u8(lockType).u64(start).u64(length).u32(procId).str(clientId); }
    }

    record Tlink(int dfid, int fid, String name) implements Tmessage {
        public int type() { return 70; }
        public void encode(WireWriter w) { w.u32(dfid).u32(fid).str(name); }
    }

    record Tmkdir(int dfid, String name, int mode, int gid) implements Tmessage {
        public int type() { return 72; }
        public void encode(WireWriter w) { w.u32(dfid).str(name).u32(mode).u32(gid); }
    }

    record Trenameat(int olddirfid, String oldname, int newdirfid, String newname) implements Tmessage {
        public int type() { return 74; }
        public void encode(WireWriter w) { w.u32(olddirfid).str(oldname).u32(newdirfid).str(newname); }
    }

    record Tunlinkat(int dirfid, String name, int flags) implements Tmessage {
        public static final int AT_REMOVEDIR = 0x200;

        public int type() { return 76; }
        public void encode(WireWriter w) { w.u32(dirfid).str(name).u32(flags); }
    }

    record Tversion(int msize, String version) implements Tmessage {
        public int type() { return 100; }
        public void encode(WireWriter w) { w.u32(msize).str(version); }
    }

    record Tauth(int afid, String uname, String aname, int nUname) implements Tmessage {
        public int type() { return 102; }
        public void encode(WireWriter w) { w.u32(afid).str(uname).str(aname).u32(nUname); }
    }

    record Tattach(int fid, int afid, String uname, String aname, int nUname) implements Tmessage {
        public int type() { return 104; }
        public void encode(WireWriter w) { w.u32(fid).u32(afid).str(uname).str(aname).u32(nUname); }
    }

    record Tflush(int oldtag) implements Tmessage {
        public int type() { return 108; }
        public void encode(WireWriter w) { w.u16(oldtag); }
    }

    record Twalk(int fid, int newfid, List<String> names) implements Tmessage {
        public Twalk {
            names = List.copyOf(names);
        }

        public int type() { return 110; }
        public void encode(WireWriter w) {
            w.u32(fid).u32(newfid).u16(names.size());
            names.forEach(w::str);
        }
    }

    record Tread(int fid, long offset, int count) implements Tmessage {
        public static final int TYPE = 116;

        public int type() { return TYPE; }
        public void encode(WireWriter w) { w.u32(fid).u64(offset).u32(count); }
    }

    /** {@code data} is a view of the request's bytes; equality is by content. */
    record Twrite(int fid, long offset, ByteBuffer data) implements Tmessage {
        public static final int TYPE = 118;

        public int type() { return TYPE; }
        public void encode(WireWriter w) { w.u32(fid).u64(offset).u32(data.remaining()).data(data); }
    }

    record Tclunk(int fid) implements Tmessage {
        public int type() { return 120; }
        public void encode(WireWriter w) { w.u32(fid); }
    }

    record Tremove(int fid) implements Tmessage {
        public int type() { return 122; }
        public void encode(WireWriter w) { w.u32(fid); }
    }

    /** Reads the body of a message of {@code type}; an unknown type is EOPNOTSUPP. */
    static Tmessage decode(int type, WireReader r) throws DecodeException {
        return switch (type) {
            case 8 -> new Tstatfs(r.u32());
            case 12 -> new Tlopen(r.u32(), r.u32());
            case 14 -> new Tlcreate(r.u32(), r.str(), r.u32(), r.u32(), r.u32());
            case 16 -> new Tsymlink(r.u32(), r.str(), r.str(), r.u32());
            case 18 -> new Tmknod(r.u32(), r.str(), r.u32(), r.u32(), r.u32(), r.u32());
            case 20 -> new Trename(r.u32(), r.u32(), r.str());
            case 22 -> new Treadlink(r.u32());
            case 24 -> new Tgetattr(r.u32(), r.u64());
            case 26 -> new Tsetattr(r.u32(), r.u32(), r.u32(), r.u32(), r.u32(), r.u64(),
                    r.u64(), r.u64(), r.u64(), r.u64());
            case 30 -> new Txattrwalk(r.u32(), r.u32(), r.str());
            case 32 -> new Txattrcreate(r.u32(), r.str(), r.u64(), r.u32());
            case 40 -> new Treaddir(r.u32(), r.u64(), r.u32());
            case 50 -> new Tfsync(r.u32(), r.u32());
            case 52 -> new Tlock(r.u32(), r.u8(), r.u32(), r.u64(), r.u64(), r.u32(), r.str());
            case 54 -> new Tgetlock(r.u32(), r.u8(), r.u64(), r.u64(), r.u32(), r.str());
            case 70 -> new Tlink(r.u32(), r.u32(), r.str());
            case 72 -> new Tmkdir(r.u32(), r.str(), r.u32(), r.u32());
            case 74 -> new Trenameat(r.u32(), r.str(), r.u32(), r.str());
            case 76 -> new Tunlinkat(r.u32(), r.str(), r.u32());
            case 100 -> new Tversion(r.u32(), r.str());
            case 102 -> new Tauth(r.u32(), r.str(), r.str(), r.u32());
            case 104 -> new Tattach(r.u32(), r.u32(), r.str(), r.str(), r.u32());
            case 108 -> new Tflush(r.u16());
            case 110 -> walk(r);
            case Tread.TYPE -> new Tread(r.u32(), r.u64(), r.u32());
            case Twrite.TYPE -> {
                int fid = r.u32();
                long offset = r.u64();
                yield new Twrite(fid, offset, r.data(r.u32()));
            }
            case 120 -> new Tclunk(r.u32());
            case 122 -> new Tremove(r.u32());
            default -> throw new DecodeException(Wire.EOPNOTSUPP, "no request of type " + type);
        };
    }

    private static Twalk walk(WireReader r) throws DecodeException {
        int fid = r.u32();
        int newfid = r.u32();
        int n = r.u16();
        if (n > Wire.MAX_WALK) {
            throw new DecodeException(Wire.E2BIG, "walk of " + n + " names");
        }
        List<String> names = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            names.add(r.str());
        }
        return new Twalk(fid, newfid, names);
    }
}
