package hg.firecracker;

import com.fasterxml.jackson.core.JsonGenerator;
import hg.firecracker.Bodies.Drive;
import hg.firecracker.Bodies.NetIface;
import java.io.IOException;

/** GET /vm/config: the whole configuration in the shape of Firecracker's config file. */
final class ConfigJson {
    private ConfigJson() {}

    static void write(JsonGenerator g, Microvm.FullConfig c) throws IOException {
        g.writeStartObject();
        g.writeNullField("balloon");
        g.writeArrayFieldStart("drives");
        for (Drive d : c.drives()) {
            d.write(g);
        }
        g.writeEndArray();
        g.writeFieldName("boot-source");
        if (c.boot() == null) {
            g.writeNull();
        } else {
            c.boot().write(g);
        }
        g.writeNullField("cpu-config");
        g.writeFieldName("logger");
        if (c.logger() == null) {
            g.writeNull();
        } else {
            c.logger().write(g);
        }
        g.writeFieldName("machine-config");
        c.machine().write(g);
        g.writeFieldName("metrics");
        if (c.metrics() == null) {
            g.writeNull();
        } else {
            c.metrics().write(g);
        }
        g.writeNullField("mmds-config");
        g.writeArrayFieldStart("network-interfaces");
        for (NetIface n : c.nets()) {
            n.write(g);
        }
        g.writeEndArray();
        g.writeFieldName("vsock");
        if (c.vsock() == null) {
            g.writeNull();
        } else {
            c.vsock().write(g);
        }
        g.writeFieldName("entropy");
        if (c.entropy() == null) {
            g.writeNull();
        } else {
            c.entropy().write(g);
        }
        g.writeEndObject();
    }
}
