package hg.e2e;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** Where the built boot image is: $HG_ROOT/build/boot-image, or found from the working directory. */
record BootImage(Path root, Path dir) {

    /**
     * The boot image of this checkout. With HG_ROOT set (the launcher sets it) a missing image is a
     * failure; without it (a plain mvn run) the checkout is found by walking up from user.dir and an
     * image that was never built is reported as absent.
     */
    static Optional<BootImage> find() {
        String env = System.getenv("HG_ROOT");
        if (env != null && !env.isBlank()) {
            BootImage image = at(Path.of(env));
            if (!image.isBuilt()) {
                throw new IllegalStateException("HG_ROOT=" + env + " but " + image.dir()
                        + " holds no bzImage + initramfs.img: bootimage/build.sh did not run or failed");
            }
            return Optional.of(image);
        }
        for (Path p = Path.of(System.getProperty("user.dir")).toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("hg")) && Files.isDirectory(p.resolve("modules"))) {
                BootImage image = at(p);
                return image.isBuilt() ? Optional.of(image) : Optional.empty();
            }
        }
        return Optional.empty();
    }

    static BootImage at(Path root) {
        return new BootImage(root, root.resolve("build/boot-image"));
    }

    boolean isBuilt() {
        return Files.isRegularFile(dir.resolve("bzImage")) && Files.isRegularFile(dir.resolve("initramfs.img"));
    }

    Path upScript() {
        return root.resolve("bootimage/up.sh");
    }
}
