package hg.firecracker;

import com.fasterxml.jackson.core.JsonGenerator;
import hg.api.internal.JsonOut;
import hg.host.Machines.Counters;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * Firecracker's metrics: one JSON object per flush, written to the file or pipe of PUT /metrics. Counters are
 * what happened since the previous flush, as Firecracker's are (Kata adds them up); the names are Firecracker's
 * where hyper-gen counts the same thing.
 */
final class FcMetrics implements AutoCloseable {
    private final LineSink sink;
    private final Bodies.MetricsConfig config;
    private final String instanceId;
    private final LongSupplier startupMicros;
    private Counters last = Counters.NONE;
    private long flushes;

    FcMetrics(LineSink sink, Bodies.MetricsConfig config, String instanceId, LongSupplier startupMicros) {
        this.sink = sink;
        this.config = config;
        this.instanceId = instanceId;
        this.startupMicros = startupMicros;
    }

    Bodies.MetricsConfig config() {
        return config;
    }

    /** Writes one line with what changed since the last; false when the reader fell behind and it was dropped. */
    synchronized boolean flush(Counters now) {
        Counters d = new Counters(now.vcpuExits() - last.vcpuExits(), now.diskReadBytes() - last.diskReadBytes(),
                now.diskWriteBytes() - last.diskWriteBytes(), now.netRxBytes() - last.netRxBytes(),
                now.netTxBytes() - last.netTxBytes());
        last = now;
        flushes++;
        byte[] json = JsonOut.bytes(g -> write(g, d));
        return sink.write(new String(json, StandardCharsets.UTF_8));
    }

    private void write(JsonGenerator g, Counters d) throws IOException {
        g.writeStartObject();
        g.writeNumberField("utc_timestamp_ms", System.currentTimeMillis());
        if (config.emitId()) {
            g.writeStringField("id", instanceId);
        }
        if (!config.properties().isEmpty()) {
            g.writeObjectFieldStart("properties");
            for (Map.Entry<String, String> e : config.properties().entrySet()) {
                g.writeStringField(e.getKey(), e.getValue());
            }
            g.writeEndObject();
        }
        g.writeObjectFieldStart("api_server");
        g.writeNumberField("process_startup_time_us", flushes == 1 ? startupMicros.getAsLong() : 0);
        g.writeEndObject();
        g.writeObjectFieldStart("block");
        g.writeNumberField("read_bytes", d.diskReadBytes());
        g.writeNumberField("write_bytes", d.diskWriteBytes());
        g.writeEndObject();
        g.writeObjectFieldStart("net");
        g.writeNumberField("rx_bytes_count", d.netRxBytes());
        g.writeNumberField("tx_bytes_count", d.netTxBytes());
        g.writeEndObject();
        g.writeObjectFieldStart("vcpu");
        g.writeNumberField("exits", d.vcpuExits());
        g.writeEndObject();
        g.writeObjectFieldStart("metrics");
        g.writeNumberField("missed_metrics_count", sink.dropped());
        g.writeEndObject();
        g.writeEndObject();
    }

    @Override
    public void close() {
        sink.close();
    }
}
