package hg.firecracker;

import hg.api.internal.ApiException;
import hg.api.internal.JsonIn;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code --config-file}: the whole microVM in one JSON object (the keys of GET /vm/config), applied in the
 * order Firecracker applies it and then started. Each resource is read and checked as its PUT would be.
 */
final class ConfigFile {
    private ConfigFile() {}

    /** What a config file sets; null or empty where it says nothing. */
    record Content(Bodies.LoggerConfig logger, Bodies.MetricsConfig metrics, Bodies.MachineConfig machine,
                   Bodies.BootSource boot, List<Bodies.Drive> drives, List<Bodies.NetIface> nets, Bodies.Entropy entropy,
                   Bodies.Vsock vsock) {}

    static Content read(Path file) throws IOException, ApiException {
        long size = Files.size(file);
        if (size > JsonIn.MAX_REQUEST) {
            throw ApiException.badRequest(file + " is " + size + " bytes, over the " + JsonIn.MAX_REQUEST / 1024
                    + " KiB a config file may have");
        }
        return parse(Files.readAllBytes(file));
    }

    static Content parse(byte[] json) throws ApiException {
        return JsonIn.request(json, in -> {
            var f = new Object() {
                Bodies.LoggerConfig logger;
                Bodies.MetricsConfig metrics;
                Bodies.MachineConfig machine;
                Bodies.BootSource boot;
                List<Bodies.Drive> drives = new ArrayList<>();
                List<Bodies.NetIface> nets = new ArrayList<>();
                Bodies.Entropy entropy;
                Bodies.Vsock vsock;
            };
            Bodies.object(in, "", (name, v) -> {
                switch (name) {
                    case "logger" -> f.logger = Bodies.nullOr(v, () -> Bodies.LoggerConfig.read(v));
                    case "metrics" -> f.metrics = Bodies.nullOr(v, () -> Bodies.MetricsConfig.read(v));
                    case "machine-config" -> f.machine = Bodies.nullOr(v,
                            () -> Bodies.MachineConfig.read(v, Bodies.MachineConfig.DEFAULT, false));
                    case "boot-source" -> f.boot = Bodies.nullOr(v, () -> Bodies.BootSource.read(v));
                    case "drives" -> f.drives = v.array(name, 64, Bodies.Drive::read);
                    case "network-interfaces" -> f.nets = v.array(name, 16, Bodies.NetIface::read);
                    case "entropy" -> f.entropy = Bodies.nullOr(v, () -> Bodies.Entropy.read(v));
                    case "vsock" -> f.vsock = Bodies.nullOr(v, () -> Bodies.Vsock.read(v));
                    case "mmds-config", "balloon", "cpu-config", "pmem", "memory-hotplug", "serial" -> {
                        if (v.token() != com.fasterxml.jackson.core.JsonToken.VALUE_NULL) {
                            throw ApiException.badRequest("'" + name + "' is not supported by hyper-gen yet");
                        }
                    }
                    default -> {
                        return false;
                    }
                }
                return true;
            });
            return new Content(f.logger, f.metrics, f.machine, f.boot, f.drives, f.nets, f.entropy, f.vsock);
        });
    }

    /** Configures {@code vm} with {@code c} as the API would, then starts it. */
    static void apply(Content c, Microvm vm) throws FcException {
        if (c.logger() != null) {
            vm.putLogger(c.logger());
        }
        if (c.metrics() != null) {
            vm.putMetrics(c.metrics());
        }
        if (c.machine() != null) {
            vm.putMachineConfig(c.machine());
        }
        if (c.boot() == null) {
            throw new FcException("Start microvm error: Cannot start microvm without kernel configuration.");
        }
        vm.putBootSource(c.boot());
        for (Bodies.Drive d : c.drives()) {
            vm.putDrive(d.driveId(), d);
        }
        for (Bodies.NetIface n : c.nets()) {
            vm.putNet(n.ifaceId(), n);
        }
        if (c.entropy() != null) {
            vm.putEntropy(c.entropy());
        }
        if (c.vsock() != null) {
            vm.putVsock(c.vsock());
        }
        vm.start();
    }
}
