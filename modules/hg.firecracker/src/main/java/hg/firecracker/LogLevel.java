package hg.firecracker;

import hg.api.internal.ApiException;
import java.util.Locale;

/** Firecracker's log levels, most severe first; a logger at one level writes it and all before it. */
enum LogLevel {
    OFF, ERROR, WARNING, INFO, DEBUG, TRACE;

    /** The level named case-insensitively as Firecracker names them (Error, Warning, Info, Debug, Trace, Off). */
    static LogLevel parse(String name) throws ApiException {
        String n = name.toUpperCase(Locale.ROOT);
        if (n.equals("WARN")) {
            return WARNING;
        }
        for (LogLevel l : values()) {
            if (l.name().equals(n)) {
                return l;
            }
        }
        throw ApiException.badRequest("field 'level' must be one of Error, Warning, Info, Debug, Trace, Off, not " + name);
    }

    boolean includes(LogLevel other) {
        return other != OFF && other.ordinal() <= ordinal();
    }
}
