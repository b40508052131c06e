package hg.api;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** The daemon shares the shell's terminal: Jetty logs through its own slf4j provider, and only warnings. */
class LoggingTest {
    @Test
    void jettySaysOnlyWhatIsWrong() {
        assertTrue(LoggerFactory.getILoggerFactory().getClass().getName().startsWith("org.eclipse.jetty.logging."),
                "Jetty's provider, not slf4j's no-op with its warning: " + LoggerFactory.getILoggerFactory());
        assertFalse(LoggerFactory.getLogger("org.eclipse.jetty.server.Server").isInfoEnabled());
        assertTrue(LoggerFactory.getLogger("org.eclipse.jetty.server.Server").isWarnEnabled());
    }
}
