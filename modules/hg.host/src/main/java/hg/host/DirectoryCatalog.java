package hg.host;

import hg.host.internal.Ext4Probe;
import hg.host.internal.IdRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * The catalog over two directories, read afresh on every call so the listing always shows what is there.
 * Regular files only (symbolic links followed), sorted by name; subdirectories are not listed. Ids come from
 * an {@link IdRegistry} per directory, so they stay with their file names across rescans.
 */
public final class DirectoryCatalog implements Catalog {
    private final Path kernelDir;
    private final Path imageDir;
    private final String kernelNotGiven;
    private final String imageNotGiven;
    private final KernelProbe kernelProbe;
    private final IdRegistry kernelIds = new IdRegistry();
    private final IdRegistry imageIds = new IdRegistry();

    /**
     * @param kernelDir      the guest kernel directory, or null when none was given
     * @param kernelNotGiven what to say when kernelDir is null (how to give one)
     */
    public DirectoryCatalog(Path kernelDir, String kernelNotGiven, Path imageDir, String imageNotGiven,
                            KernelProbe kernelProbe) {
        this.kernelDir = kernelDir;
        this.imageDir = imageDir;
        this.kernelNotGiven = kernelNotGiven;
        this.imageNotGiven = imageNotGiven;
        this.kernelProbe = kernelProbe;
    }

    @Override
    public Path kernelDir() {
        return kernelDir;
    }

    @Override
    public Path imageDir() {
        return imageDir;
    }

    @Override
    public List<CatalogEntry> kernels() {
        return scan(kernelDir, this::kernelEntry, kernelIds);
    }

    @Override
    public List<CatalogEntry> images() {
        return scan(imageDir, DirectoryCatalog::imageEntry, imageIds);
    }

    @Override
    public String kernelDirProblem() {
        return problem(kernelDir, "kernel", kernelNotGiven);
    }

    @Override
    public String imageDirProblem() {
        return problem(imageDir, "image", imageNotGiven);
    }

    static String problem(Path dir, String what, String notGiven) {
        if (dir == null) {
            return notGiven;
        }
        if (!Files.exists(dir)) {
            return "the guest " + what + " directory " + dir + " does not exist";
        }
        if (!Files.isDirectory(dir)) {
            return "the guest " + what + " directory " + dir + " is not a directory";
        }
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
            s.iterator().hasNext();
            return null;
        } catch (IOException | RuntimeException e) {
            return "the guest " + what + " directory " + dir + " cannot be read (" + reason(e) + ")";
        }
    }

    /** Classification of one file: a usable entry gets the id its file name has in the directory's registry. */
    private interface Classified {}

    private record Usable(Path path, long size, String kind, String label) implements Classified {}

    private record Unusable(Path path, long size, String reason) implements Classified {}

    private static List<CatalogEntry> scan(Path dir, Function<Path, Classified> classify, IdRegistry ids) {
        if (dir == null) {
            return List.of();
        }
        List<Path> files = new ArrayList<>();
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
            for (Path p : s) {
                if (Files.isRegularFile(p)) {
                    files.add(p);
                }
            }
        } catch (IOException | RuntimeException e) {
            return List.of();
        }
        files.sort((a, b) -> a.getFileName().toString().compareTo(b.getFileName().toString()));
        List<CatalogEntry> out = new ArrayList<>(files.size());
        for (Path p : files) {
            Classified c = classify.apply(p);
            switch (c) {
                case Usable u when u.label() == null ->
                        out.add(new CatalogEntry.Kernel(ids.idFor(name(p)), u.path(), u.size(), u.kind()));
                case Usable u -> out.add(new CatalogEntry.Image(ids.idFor(name(p)), u.path(), u.size(), u.kind(), u.label()));
                case Unusable r -> out.add(new CatalogEntry.Rejected(r.path(), r.size(), r.reason()));
                default -> throw new IllegalStateException();
            }
        }
        return out;
    }

    private static String name(Path p) {
        return p.getFileName().toString();
    }

    private Classified kernelEntry(Path p) {
        long size = sizeOf(p);
        try {
            return new Usable(p, size, kernelProbe.classify(p), null);
        } catch (KernelProbe.NotAKernel e) {
            return new Unusable(p, size, e.getMessage());
        } catch (IOException | RuntimeException e) {
            return new Unusable(p, size, "cannot be read (" + reason(e) + ")");
        }
    }

    private static Classified imageEntry(Path p) {
        long size = sizeOf(p);
        byte[] sb;
        try (InputStream in = Files.newInputStream(p)) {
            in.skipNBytes(Math.min(size, Ext4Probe.SUPERBLOCK_OFFSET));
            sb = in.readNBytes(Ext4Probe.SUPERBLOCK_SIZE);
        } catch (IOException | RuntimeException e) {
            return new Unusable(p, size, "cannot be read (" + reason(e) + ")");
        }
        if (size < Ext4Probe.SUPERBLOCK_OFFSET) {
            sb = new byte[0];
        }
        return switch (Ext4Probe.probe(sb, size)) {
            case Ext4Probe.Filesystem fs -> new Usable(p, size, fs.type(), fs.label());
            case Ext4Probe.NotExt no -> new Unusable(p, size, no.reason());
        };
    }

    private static long sizeOf(Path p) {
        try {
            return Files.size(p);
        } catch (IOException e) {
            return 0;
        }
    }

    public static String reason(Throwable e) {
        if (e instanceof java.nio.file.AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof java.nio.file.NoSuchFileException) {
            return "no such file";
        }
        String m = e.getMessage();
        return m == null ? e.getClass().getSimpleName() : m;
    }
}
