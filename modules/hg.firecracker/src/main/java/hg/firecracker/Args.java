package hg.firecracker;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Firecracker's command line. The flags that shape this front end are taken; those of Firecracker's that only
 * tune what hyper-gen does its own way (seccomp, payload limits, the jailer's start-time hints) are accepted and
 * named in {@link #ignored} so the launcher can say so once; anything else is an argument error.
 */
record Args(Path apiSock, boolean noApi, Path configFile, String id, boolean bootTimer, Path metadata, Path logPath,
            String level, boolean showLevel, boolean showLogOrigin, Path metricsPath, boolean version, boolean help,
            List<String> ignored) {
    static final Path DEFAULT_SOCKET = Path.of("/run/firecracker.socket");
    static final String DEFAULT_ID = "anonymous-instance";

    /** A command line Firecracker would refuse: exit code 153 with this line. */
    static final class ArgsException extends Exception {
        private static final long serialVersionUID = 1L;

        ArgsException(String line) {
            super(line, null, false, false);
        }
    }

    /** Flags of Firecracker's that take a value and change nothing here. */
    private static final List<String> IGNORED_WITH_VALUE = List.of("--seccomp-filter", "--seccomp-level",
            "--start-time-us", "--start-time-cpu-us", "--parent-cpu-time-us", "--http-api-max-payload-size",
            "--mmds-size-limit", "--module");
    private static final List<String> IGNORED_FLAGS = List.of("--no-seccomp", "--enable-pci");

    static Args parse(String[] argv) throws ArgsException {
        Path sock = null, config = null, metadata = null, logPath = null, metricsPath = null;
        String id = DEFAULT_ID, level = null;
        boolean noApi = false, bootTimer = false, showLevel = false, showOrigin = false, version = false, help = false;
        List<String> ignored = new ArrayList<>();
        for (int i = 0; i < argv.length; i++) {
            String a = argv[i];
            String value = null;
            int eq = a.indexOf('=');
            if (a.startsWith("--") && eq > 0) {
                value = a.substring(eq + 1);
                a = a.substring(0, eq);
            }
            switch (a) {
                case "--api-sock" -> sock = Path.of(value != null ? value : next(argv, ++i, a));
                case "--config-file" -> config = Path.of(value != null ? value : next(argv, ++i, a));
                case "--metadata" -> metadata = Path.of(value != null ? value : next(argv, ++i, a));
                case "--log-path" -> logPath = Path.of(value != null ? value : next(argv, ++i, a));
                case "--metrics-path" -> metricsPath = Path.of(value != null ? value : next(argv, ++i, a));
                case "--level" -> level = value != null ? value : next(argv, ++i, a);
                case "--id" -> id = value != null ? value : next(argv, ++i, a);
                case "--no-api" -> noApi = true;
                case "--boot-timer" -> bootTimer = true;
                case "--show-level" -> showLevel = true;
                case "--show-log-origin" -> showOrigin = true;
                case "--version", "-V" -> version = true;
                case "--help", "-h" -> help = true;
                default -> {
                    if (IGNORED_WITH_VALUE.contains(a)) {
                        if (value == null) {
                            next(argv, ++i, a);
                        }
                        ignored.add(a);
                    } else if (IGNORED_FLAGS.contains(a)) {
                        ignored.add(a);
                    } else {
                        throw new ArgsException("Found argument '" + a + "' which wasn't expected, or isn't valid in "
                                + "this context.");
                    }
                }
            }
        }
        if (!validId(id)) {
            throw new ArgsException("Invalid instance ID: " + id + " (1 to 64 letters, digits and '-')");
        }
        if (noApi && config == null && !version && !help) {
            throw new ArgsException("Missing required argument: --config-file is required with --no-api");
        }
        if (noApi && sock != null) {
            throw new ArgsException("--api-sock and --no-api exclude each other");
        }
        return new Args(noApi ? null : sock != null ? sock : DEFAULT_SOCKET, noApi, config, id, bootTimer, metadata,
                logPath, level, showLevel, showOrigin, metricsPath, version, help, List.copyOf(ignored));
    }

    /** 1 to 64 letters, digits and '-', as Firecracker takes an instance id (by hand: no regex on the start path). */
    private static boolean validId(String id) {
        if (id.isEmpty() || id.length() > 64) {
            return false;
        }
        for (int i = 0; i < id.length(); i++) {
            char c = id.charAt(i);
            if (!(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-')) {
                return false;
            }
        }
        return true;
    }

    private static String next(String[] argv, int i, String flag) throws ArgsException {
        if (i >= argv.length) {
            throw new ArgsException("The argument '" + flag + "' requires a value but none was supplied");
        }
        return argv[i];
    }

    static final String USAGE = """
            usage: firecracker [--api-sock PATH | --no-api] [--config-file FILE] [--id ID] [--boot-timer]
                               [--metadata FILE] [--log-path PATH] [--level LEVEL] [--show-level]
                               [--show-log-origin] [--metrics-path PATH] [--version]
            A Firecracker-compatible microVM on hyper-gen: one VM per process, driven over Firecracker's API on
            --api-sock (default /run/firecracker.socket) or started from --config-file. The guest's serial
            console is this process's standard input and output; the process ends when the guest does.""";
}
