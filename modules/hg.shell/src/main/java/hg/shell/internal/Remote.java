package hg.shell.internal;

import hg.api.ApiClient;
import hg.host.HostException;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * {@code hyper-gen remote [--api-sock PATH] METHOD PATH [JSON]}: one request to the daemon's API (or to a
 * Firecracker front end's socket), its status and body printed as they came (as Cloud Hypervisor's ch-remote is to its API), for scripts and
 * machines without curl. Exit code 0 for an answer below 400, 1 for a refusal, 2 for a wrong call.
 */
public final class Remote {
    public static final String WORD = "remote";
    static final String USAGE = "usage: hyper-gen remote [--api-sock PATH] GET|POST|PUT|PATCH|DELETE /path "
            + "[JSON body], e.g. hyper-gen remote GET /vms";
    private static final Set<String> METHODS = Set.of("GET", "POST", "PUT", "PATCH", "DELETE");

    private Remote() {}

    public static int run(List<String> args, Path defaultSocket, PrintStream out) {
        Path socket = defaultSocket;
        List<String> rest = args;
        if (!rest.isEmpty() && rest.getFirst().equals("--api-sock")) {
            if (rest.size() < 2) {
                return wrong("--api-sock needs the path of a socket", out);
            }
            socket = Path.of(rest.get(1));
            rest = rest.subList(2, rest.size());
        }
        if (rest.size() < 2 || rest.size() > 3) {
            return wrong("remote takes a method, a path and at most one JSON body", out);
        }
        String method = rest.get(0);
        if (!METHODS.contains(method)) {
            return wrong("'" + method + "' is not one of " + String.join(", ", METHODS.stream().sorted().toList()), out);
        }
        String path = rest.get(1);
        if (!path.startsWith("/")) {
            return wrong("the path starts with /, e.g. /vms", out);
        }
        byte[] body = rest.size() == 3 ? rest.get(2).getBytes(StandardCharsets.UTF_8) : null;
        try {
            // Any hyper-gen API: the daemon's, or a Firecracker front end's (firecracker --api-sock).
            ApiClient.Answer a = ApiClient.once(socket, method, path, body);
            out.println("HTTP " + a.status() + " " + a.reason());
            if (a.body().length > 0) {
                out.println(new String(a.body(), StandardCharsets.UTF_8).strip());
            }
            out.flush();
            return a.status() < 400 ? 0 : 1;
        } catch (IOException | HostException e) {
            out.println("error: " + e.getMessage());
            out.flush();
            return 1;
        }
    }

    private static int wrong(String why, PrintStream out) {
        out.println("error: " + why);
        out.println(USAGE);
        out.flush();
        return 2;
    }

    public static boolean asked(String[] args) {
        return args.length > 0 && args[0].equals(WORD);
    }

    public static List<String> arguments(String[] args) {
        return Arrays.asList(args).subList(1, args.length);
    }
}
