package hg.imagetools.internal;

import hg.imagetools.Content;
import hg.imagetools.ImageToolsException;
import hg.imagetools.Limits;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Finds the layers, bottom first, of a `docker save` tarball or an OCI image layout. */
final class ContainerImage {
    private ContainerImage() {}

    /** The layer blobs in order, or null when the files are not a container image. */
    static List<Content> layers(Map<String, Content> files, String what) throws IOException {
        try {
            if (files.containsKey("manifest.json")) {
                Object m = json(files.get("manifest.json"), "manifest.json", what);
                if (m instanceof List<?> l && !l.isEmpty() && l.getFirst() instanceof Map<?, ?> first && first.get("Layers") instanceof List<?> ls) {
                    List<Content> out = new ArrayList<>();
                    for (Object o : ls) out.add(need(files, String.valueOf(o), what));
                    return out;
                }
            }
            if (files.containsKey("oci-layout") && files.containsKey("index.json")) {
                Map<?, ?> index = (Map<?, ?>) json(files.get("index.json"), "index.json", what);
                List<?> manifests = (List<?>) index.get("manifests");
                if (manifests == null || manifests.isEmpty()) throw new ImageToolsException.BadSource(what + ": OCI index lists no manifest");
                Map<?, ?> manifest = (Map<?, ?>) json(blob(files, (Map<?, ?>) manifests.getFirst(), what), "the OCI manifest", what);
                if (manifest.get("manifests") instanceof List<?> nested && !nested.isEmpty()) // an index of indexes
                    manifest = (Map<?, ?>) json(blob(files, (Map<?, ?>) nested.getFirst(), what), "the OCI manifest", what);
                List<Content> out = new ArrayList<>();
                for (Object o : (List<?>) manifest.get("layers")) out.add(blob(files, (Map<?, ?>) o, what));
                return out;
            }
            return null;
        } catch (ClassCastException | NullPointerException | IllegalArgumentException e) {
            throw new ImageToolsException.BadSource(what + ": malformed container image manifest (" + e.getMessage() + ")", e);
        }
    }

    private static Content blob(Map<String, Content> files, Map<?, ?> descriptor, String what) {
        String digest = String.valueOf(descriptor.get("digest"));
        int colon = digest.indexOf(':');
        if (colon < 0) throw new ImageToolsException.BadSource(what + ": bad digest " + digest);
        return need(files, "blobs/" + digest.substring(0, colon) + "/" + digest.substring(colon + 1), what);
    }

    private static Content need(Map<String, Content> files, String name, String what) {
        Content c = files.get(ArchiveSources.normalize(name));
        if (c == null) throw new ImageToolsException.BadSource(what + ": container image lacks " + name);
        return c;
    }

    /** A JSON file of the image, parsed; its name in the one line that says what is wrong with it. */
    private static Object json(Content c, String name, String what) throws IOException {
        String t = text(c, name, what);
        try {
            return Json.parse(t);
        } catch (IllegalArgumentException e) {
            throw new ImageToolsException.BadSource(what + ": " + name + ": " + e.getMessage(), e);
        }
    }

    /** A JSON file's text, its size checked before it is read into memory. */
    private static String text(Content c, String name, String what) throws IOException {
        if (c.size() > Limits.MAX_JSON_BYTES)
            throw new ImageToolsException.OverLimit(what + ": " + name + " is larger than " + Limits.size(Limits.MAX_JSON_BYTES));
        try (InputStream in = c.open()) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
