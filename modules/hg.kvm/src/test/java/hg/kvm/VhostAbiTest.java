package hg.kvm;

import hg.kvm.internal.VhostAbi;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static hg.kvm.internal.Layouts.offset;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The vhost structs and ioctl numbers against what gcc makes of the system's linux/vhost.h. */
class VhostAbiTest {
    private static final Map<String, Long> FROM_JAVA = new LinkedHashMap<>();
    private static Map<String, String> fromC;

    @BeforeAll
    static void compileAndRun() throws Exception {
        assumeTrue(hasGcc(), "gcc is not installed: the vhost ABI cannot be checked here");
        StringBuilder c = new StringBuilder("#include <stdio.h>\n#include <stddef.h>\n#include <linux/vhost.h>\n")
                .append("int main(void) {\n");
        for (Map.Entry<String, GroupLayout> e : VhostAbi.layouts().entrySet()) {
            String struct = e.getKey();
            emit(c, "sizeof " + struct, "sizeof(struct " + struct + ")", e.getValue().byteSize());
            for (MemoryLayout m : e.getValue().memberLayouts()) {
                String name = m.name().orElseThrow();
                emit(c, "offsetof " + struct + "." + name, "offsetof(struct " + struct + ", " + name + ")",
                        offset(e.getValue(), name));
            }
        }
        for (Map.Entry<String, Long> e : VhostAbi.constants().entrySet()) {
            emit(c, e.getKey(), e.getKey(), e.getValue());
        }
        c.append("  return 0;\n}\n");
        fromC = CProgram.keyValues(c.toString());
    }

    private static boolean hasGcc() {
        try {
            Process p = new ProcessBuilder("gcc", "--version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static void emit(StringBuilder c, String key, String expression, long value) {
        FROM_JAVA.put(key, value);
        c.append("  printf(\"%s %llu\\n\", \"").append(key).append("\", (unsigned long long)(")
                .append(expression).append("));\n");
    }

    @Test
    void everyStructMemberAndRequestNumberMatchesGcc() {
        assertEquals(List.of(), CProgram.mismatches(FROM_JAVA, fromC));
        assertEquals("40", fromC.get("sizeof vhost_vring_addr"), "the program checked the structs");
    }
}
