package hg.ninep.internal.wire;

/** A file's identity on the wire: type (QT_* bits), version, and a path unique within the share. */
public record Qid(int type, int version, long path) {
    public static final int QTDIR = 0x80;
    public static final int QTSYMLINK = 0x02;
    public static final int QTFILE = 0;
    public static final int SIZE = 13;
}
