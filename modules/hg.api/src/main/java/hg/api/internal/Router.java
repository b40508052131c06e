package hg.api.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/**
 * The endpoints by method and path template; a template's {@code {id}} segment matches a VM id. A literal
 * segment wins over {@code {id}}, so /vms/restore is never taken for a VM named "restore".
 */
public final class Router {
    /** What an endpoint does with a call. */
    @FunctionalInterface
    public interface Action {
        Reply run(Call call) throws Exception;
    }

    public record Route(String method, String template, Action action) {}

    /** What a request's method and path lead to. */
    public sealed interface Match {
        record Found(Route route, String id) implements Match {}

        record NoPath() implements Match {}

        /** The path is there, not with this method; {@code allow} is the methods it takes. */
        record WrongMethod(List<String> allow) implements Match {}
    }

    private final List<Route> routes;

    public Router(List<Route> routes) {
        this.routes = List.copyOf(routes);
    }

    public List<Route> routes() {
        return routes;
    }

    public Match match(String method, String path) {
        List<String> segments = segments(path);
        int best = -1;
        List<Route> atBest = new ArrayList<>();
        for (Route r : routes) {
            int literal = literalMatch(segments(r.template()), segments);
            if (literal > best) {
                best = literal;
                atBest.clear();
            }
            if (literal == best && literal >= 0) {
                atBest.add(r);
            }
        }
        if (atBest.isEmpty()) {
            return new Match.NoPath();
        }
        for (Route r : atBest) {
            if (r.method().equals(method)) {
                return new Match.Found(r, idOf(r.template(), segments));
            }
        }
        return new Match.WrongMethod(List.copyOf(new TreeSet<>(atBest.stream().map(Route::method).toList())));
    }

    /** How many literal segments match, or -1 when the template does not fit the path. */
    private static int literalMatch(List<String> template, List<String> path) {
        if (template.size() != path.size()) {
            return -1;
        }
        int literal = 0;
        for (int i = 0; i < template.size(); i++) {
            String t = template.get(i);
            if (t.equals("{id}")) {
                continue;
            }
            if (!t.equals(path.get(i))) {
                return -1;
            }
            literal++;
        }
        return literal;
    }

    private static String idOf(String template, List<String> path) {
        List<String> t = segments(template);
        for (int i = 0; i < t.size(); i++) {
            if (t.get(i).equals("{id}")) {
                return path.get(i);
            }
        }
        return null;
    }

    private static List<String> segments(String path) {
        List<String> out = new ArrayList<>();
        for (String s : path.split("/", -1)) {
            if (!s.isEmpty()) {
                out.add(s);
            }
        }
        return out;
    }
}
