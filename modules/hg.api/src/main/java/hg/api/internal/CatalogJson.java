package hg.api.internal;

import com.fasterxml.jackson.core.JsonGenerator;
import hg.host.CatalogEntry;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * GET /kernels and GET /images: the directory, what is wrong with it, and its entries. Each entry has its id
 * (null when rejected), file name, path, size, kind ("kernel", "image", "rejected") and what the kind adds.
 */
public final class CatalogJson {
    private CatalogJson() {}

    /** One directory of the catalog as the client rebuilds it. */
    public record Listing(Path dir, String problem, List<CatalogEntry> entries) {
        public Listing {
            entries = List.copyOf(entries);
        }
    }

    public static void write(JsonGenerator g, Listing listing) throws IOException {
        g.writeStartObject();
        JsonOut.nullable(g, "dir", listing.dir() == null ? null : listing.dir().toString());
        JsonOut.nullable(g, "problem", listing.problem());
        g.writeArrayFieldStart("entries");
        for (CatalogEntry e : listing.entries()) {
            entry(g, e);
        }
        g.writeEndArray();
        g.writeEndObject();
    }

    private static void entry(JsonGenerator g, CatalogEntry e) throws IOException {
        g.writeStartObject();
        if (e instanceof CatalogEntry.Usable u) {
            g.writeNumberField("id", u.id());
        } else {
            g.writeNullField("id");
        }
        g.writeStringField("file", e.fileName());
        g.writeStringField("path", e.path().toString());
        g.writeNumberField("size", e.size());
        switch (e) {
            case CatalogEntry.Kernel k -> {
                g.writeStringField("kind", "kernel");
                g.writeStringField("format", k.format());
            }
            case CatalogEntry.Image i -> {
                g.writeStringField("kind", "image");
                g.writeStringField("fs_type", i.fsType());
                g.writeStringField("label", i.label());
            }
            case CatalogEntry.Rejected r -> {
                g.writeStringField("kind", "rejected");
                g.writeStringField("reason", r.reason());
            }
        }
        g.writeEndObject();
    }

    public static Listing read(JsonIn in) throws IOException, ApiException {
        var b = new Object() {
            String dir, problem;
            List<CatalogEntry> entries = List.of();
        };
        in.object("", name -> {
            switch (name) {
                case "dir" -> b.dir = in.optionalString(name);
                case "problem" -> b.problem = in.optionalString(name);
                case "entries" -> b.entries = in.array(name, Integer.MAX_VALUE, CatalogJson::readEntry);
                default -> {
                    return false;
                }
            }
            return true;
        });
        return new Listing(b.dir == null ? null : Path.of(b.dir), b.problem, b.entries);
    }

    private static CatalogEntry readEntry(JsonIn in) throws IOException, ApiException {
        var b = new Object() {
            Integer id;
            String path = "", kind = "", format = "", fsType = "", label = "", reason = "";
            long size;
        };
        in.object("entries", name -> {
            switch (name) {
                case "id" -> b.id = in.token() == com.fasterxml.jackson.core.JsonToken.VALUE_NULL ? null : in.smallInteger(name);
                case "path" -> b.path = in.string(name);
                case "size" -> b.size = in.integer(name);
                case "kind" -> b.kind = in.string(name);
                case "format" -> b.format = in.string(name);
                case "fs_type" -> b.fsType = in.string(name);
                case "label" -> b.label = in.string(name);
                case "reason" -> b.reason = in.string(name);
                default -> {
                    return false; // "file" is the path's last name
                }
            }
            return true;
        });
        Path path = Path.of(b.path);
        return switch (b.kind) {
            case "kernel" -> new CatalogEntry.Kernel(id(b.id), path, b.size, b.format);
            case "image" -> new CatalogEntry.Image(id(b.id), path, b.size, b.fsType, b.label);
            default -> new CatalogEntry.Rejected(path, b.size, b.reason);
        };
    }

    private static int id(Integer id) throws ApiException {
        if (id == null) {
            throw ApiException.badRequest("a usable catalog entry without an id");
        }
        return id;
    }
}
