package hg.imagetools.internal;

import hg.imagetools.Content;
import hg.imagetools.ImageToolsException;
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
                Object m = Json.parse(text(files.get("manifest.json")));
                if (m instanceof List<?> l && !l.isEmpty() && l.getFirst() instanceof Map<?, ?> first && first.get("Layers") instanceof List<?> ls) {
                    List<Content> out = new ArrayList<>();
                    for (Object o : ls) out.add(need(files, String.valueOf(o), what));
                    return out;
                }
            }
            if (files.containsKey("oci-layout") && files.containsKey("index.json")) {
                Map<?, ?> index = (Map<?, ?>) Json.parse(text(files.get("index.json")));
                List<?> manifests = (List<?>) index.get("manifests");
                if (manifests == null || manifests.isEmpty()) throw new ImageToolsException.BadSource(what + ": OCI index lists no manifest");
                Map<?, ?> manifest = (Map<?, ?>) Json.parse(text(blob(files, (Map<?, ?>) manifests.getFirst(), what)));
                if (manifest.get("manifests") instanceof List<?> nested && !nested.isEmpty()) // an index of indexes
                    manifest = (Map<?, ?>) Json.parse(text(blob(files, (Map<?, ?>) nested.getFirst(), what)));
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

    private static String text(Content c) throws IOException {
        try (InputStream in = c.open()) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
