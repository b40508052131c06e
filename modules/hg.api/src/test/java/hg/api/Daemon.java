package hg.api;

import hg.host.BootKernelProbe;
import hg.host.Catalog;
import hg.host.CheckedMachines;
import hg.host.DirectoryCatalog;
import hg.host.Machines;
import hg.host.VmmMachines;
import hg.vmm.VmManager;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A daemon as the tests run it: an ApiServer on a socket in {@code dir}, over real VMs on /dev/kvm (the host's
 * checks in front) and a catalog of the echo and count guests, a 8 MiB root image and a data image.
 */
final class Daemon implements AutoCloseable {
    final Path dir;
    final Path socket;
    final Path kernels;
    final Path images;
    final Machines machines;
    final Catalog catalog;
    final ApiServer server;

    private Daemon(Path dir, Path kernels, Path images, Machines machines, Catalog catalog, ApiServer server) {
        this.dir = dir;
        this.socket = server.socket();
        this.kernels = kernels;
        this.images = images;
        this.machines = machines;
        this.catalog = catalog;
        this.server = server;
    }

    /** Kernel 0 is count.elf, kernel 1 echo.elf; image 0 data.ext4, image 1 root.ext4. */
    static Daemon start(Path dir) throws IOException, InterruptedException {
        Path kernels = Files.createDirectories(dir.resolve("kernels"));
        Path images = Files.createDirectories(dir.resolve("images"));
        Files.move(Guests.build(dir, "count"), kernels.resolve("count.elf"));
        Files.move(Guests.build(dir, "echo"), kernels.resolve("echo.elf"));
        hg.host.testkit.Mke2fs.make(images.resolve("root.ext4"), "ext4", "ROOT", "8M");
        hg.host.testkit.Mke2fs.make(images.resolve("data.ext4"), "ext4", "DATA", "4M");
        return start(dir, kernels, images, new CheckedMachines(new VmmMachines(new VmManager())));
    }

    static Daemon start(Path dir, Path kernels, Path images, Machines machines) throws IOException {
        Catalog catalog = new DirectoryCatalog(kernels, "no kernel directory given", images, "no image directory given",
                new BootKernelProbe());
        return new Daemon(dir, kernels, images, machines, catalog, ApiServer.start(dir.resolve("api.sock"), machines, catalog));
    }

    @Override
    public void close() {
        server.close();
        machines.close();
    }
}
