package hg.shell.internal;

import hg.host.Catalog;
import hg.host.CatalogEntry;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** A catalog held in memory, for the command tests only. */
class FakeCatalog implements Catalog {
    final List<CatalogEntry> kernels = new ArrayList<>();
    final List<CatalogEntry> images = new ArrayList<>();
    String kernelProblem;
    String imageProblem;

    static FakeCatalog standard() {
        FakeCatalog c = new FakeCatalog();
        c.kernels.add(new CatalogEntry.Rejected(Path.of("/k/README"), 120, "not a kernel (neither an ELF vmlinux nor a bzImage setup header)"));
        c.kernels.add(new CatalogEntry.Kernel(0, Path.of("/k/bzImage-6.1"), 8_000_000, "bzImage"));
        c.kernels.add(new CatalogEntry.Kernel(1, Path.of("/k/vmlinux-6.1"), 17_600_000, "vmlinux"));
        c.images.add(new CatalogEntry.Image(0, Path.of("/i/alpine.ext4"), 64L << 20, "ext4", "alpine"));
        c.images.add(new CatalogEntry.Rejected(Path.of("/i/notes.txt"), 3, "too small for an ext4 image"));
        c.images.add(new CatalogEntry.Image(1, Path.of("/i/root.ext4"), 128L << 20, "ext4", ""));
        return c;
    }

    @Override
    public List<CatalogEntry> kernels() {
        return kernels;
    }

    @Override
    public List<CatalogEntry> images() {
        return images;
    }

    @Override
    public Path kernelDir() {
        return Path.of("/k");
    }

    @Override
    public Path imageDir() {
        return Path.of("/i");
    }

    @Override
    public String kernelDirProblem() {
        return kernelProblem;
    }

    @Override
    public String imageDirProblem() {
        return imageProblem;
    }
}
