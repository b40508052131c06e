package hg.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.LongRange;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class SizesTest {
    @ParameterizedTest
    @CsvSource({"512M,536870912", "512m,536870912", "512MiB,536870912", "512MB,536870912", "2G,2147483648",
            "1048576K,1073741824", "768,805306368", "1g,1073741824"})
    void parsesTheUsualForms(String text, long bytes) throws HostException {
        assertEquals(bytes, Sizes.parseMemory(text));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "M", "0", "0M", "-5M", "1.5G", "12X", "lots", "512B", "99999999999999G", "1 G"})
    void refusesTheRest(String text) {
        assertThrows(HostException.class, () -> Sizes.parseMemory(text));
    }

    @Test
    void humanForm() {
        assertEquals("17 B", Sizes.human(17));
        assertEquals("4 KiB", Sizes.human(4096));
        assertEquals("512 MiB", Sizes.human(512L << 20));
        assertEquals("1.5 GiB", Sizes.human(3L << 29));
    }

    @Property(tries = 200)
    void mebibytesRoundTrip(@ForAll @LongRange(min = 1, max = 1 << 20) long mib) throws HostException {
        assertEquals(mib << 20, Sizes.parseMemory(mib + "M"));
        assertEquals(mib << 20, Sizes.parseMemory(Long.toString(mib)));
    }
}
