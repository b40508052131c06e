package hg.api.internal;

import com.fasterxml.jackson.core.JsonGenerator;
import hg.host.Machines.Snapshot;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** What a snapshot wrote, as JSON both ways; the pause in nanoseconds so it comes back exactly. */
public final class SnapshotJson {
    private static final List<String> NUMBERS = List.of("memory_bytes", "memory_data_bytes", "disk_bytes", "paused_ns");

    private SnapshotJson() {}

    public static void write(JsonGenerator g, Snapshot s) throws IOException {
        g.writeStartObject();
        g.writeStringField("dir", s.dir().toString());
        g.writeNumberField("memory_bytes", s.memoryBytes());
        g.writeNumberField("memory_data_bytes", s.memoryDataBytes());
        g.writeNumberField("disk_bytes", s.diskBytes());
        g.writeNumberField("paused_ns", s.paused().toNanos());
        g.writeEndObject();
    }

    public static Snapshot read(JsonIn in) throws IOException, ApiException {
        String[] dir = {""};
        long[] v = new long[NUMBERS.size()];
        in.object("", name -> {
            if (name.equals("dir")) {
                dir[0] = in.string(name);
                return true;
            }
            int i = NUMBERS.indexOf(name);
            if (i < 0) {
                return false;
            }
            v[i] = in.integer(name);
            return true;
        });
        return new Snapshot(Path.of(dir[0]), v[0], v[1], v[2], Duration.ofNanos(v[3]));
    }
}
