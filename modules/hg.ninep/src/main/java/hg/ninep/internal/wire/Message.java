package hg.ninep.internal.wire;

/** A 9P2000.L message body: its type number and how its fields go on the wire. */
public sealed interface Message permits Tmessage, Rmessage {
    int type();

    void encode(WireWriter w);
}
