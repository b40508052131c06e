package hg.kvm;

import hg.kvm.sys.Landlock;
import hg.kvm.sys.Seccomp;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemoryLayout;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Checks the hand-written Landlock and seccomp layouts, constants and the deny-list's system call
 * numbers against what gcc says from the system's linux/landlock.h, linux/seccomp.h, linux/filter.h,
 * linux/audit.h and sys/syscall.h.
 */
class ConfinementAbiTest {
    @Test
    void layoutsConstantsAndSyscallNumbersMatchTheHeaders() throws Exception {
        Map<String, Long> java = new LinkedHashMap<>();
        StringBuilder c = new StringBuilder("""
                #include <stdio.h>
                #include <stddef.h>
                #include <sys/syscall.h>
                #include <linux/landlock.h>
                #include <linux/seccomp.h>
                #include <linux/filter.h>
                #include <linux/audit.h>
                int main(void) {
                """);
        emit(c, java, "sizeof path_beneath", "sizeof(struct landlock_path_beneath_attr)",
                Landlock.PATH_BENEATH_ATTR.byteSize());
        emit(c, java, "offsetof allowed_access", "offsetof(struct landlock_path_beneath_attr, allowed_access)",
                Landlock.PATH_BENEATH_ATTR.byteOffset(MemoryLayout.PathElement.groupElement("allowed_access")));
        emit(c, java, "offsetof parent_fd", "offsetof(struct landlock_path_beneath_attr, parent_fd)",
                Landlock.PATH_BENEATH_ATTR.byteOffset(MemoryLayout.PathElement.groupElement("parent_fd")));
        emit(c, java, "offsetof handled_access_fs", "offsetof(struct landlock_ruleset_attr, handled_access_fs)",
                Landlock.RULESET_ATTR_FS.byteOffset(MemoryLayout.PathElement.groupElement("handled_access_fs")));
        emit(c, java, "sizeof handled_access_fs", "sizeof(((struct landlock_ruleset_attr *)0)->handled_access_fs)",
                Landlock.RULESET_ATTR_FS.byteSize());
        emit(c, java, "SYS_landlock_create_ruleset", "SYS_landlock_create_ruleset", 444);
        emit(c, java, "SYS_landlock_add_rule", "SYS_landlock_add_rule", 445);
        emit(c, java, "SYS_landlock_restrict_self", "SYS_landlock_restrict_self", 446);
        emit(c, java, "SYS_seccomp", "SYS_seccomp", 317);
        emit(c, java, "LANDLOCK_CREATE_RULESET_VERSION", "LANDLOCK_CREATE_RULESET_VERSION", 1);
        emit(c, java, "LANDLOCK_RULE_PATH_BENEATH", "LANDLOCK_RULE_PATH_BENEATH", 1);
        Map<String, Long> rights = new LinkedHashMap<>();
        rights.put("EXECUTE", Landlock.EXECUTE);
        rights.put("WRITE_FILE", Landlock.WRITE_FILE);
        rights.put("READ_FILE", Landlock.READ_FILE);
        rights.put("READ_DIR", Landlock.READ_DIR);
        rights.put("REMOVE_DIR", Landlock.REMOVE_DIR);
        rights.put("REMOVE_FILE", Landlock.REMOVE_FILE);
        rights.put("MAKE_CHAR", Landlock.MAKE_CHAR);
        rights.put("MAKE_DIR", Landlock.MAKE_DIR);
        rights.put("MAKE_REG", Landlock.MAKE_REG);
        rights.put("MAKE_SOCK", Landlock.MAKE_SOCK);
        rights.put("MAKE_FIFO", Landlock.MAKE_FIFO);
        rights.put("MAKE_BLOCK", Landlock.MAKE_BLOCK);
        rights.put("MAKE_SYM", Landlock.MAKE_SYM);
        rights.put("REFER", Landlock.REFER);
        rights.put("TRUNCATE", Landlock.TRUNCATE);
        rights.put("IOCTL_DEV", Landlock.IOCTL_DEV);
        for (Map.Entry<String, Long> e : rights.entrySet()) {
            // Rights newer than the system's headers are printed as the Java value (nothing to check).
            String name = "LANDLOCK_ACCESS_FS_" + e.getKey();
            java.put(name, e.getValue());
            c.append("#ifdef ").append(name).append("\n printf(\"%s %llu\\n\", \"").append(name)
                    .append("\", (unsigned long long)(").append(name).append("));\n#else\n printf(\"%s %llu\\n\", \"")
                    .append(name).append("\", ").append(e.getValue()).append("ULL);\n#endif\n");
        }
        emit(c, java, "sizeof sock_filter", "sizeof(struct sock_filter)", Seccomp.SOCK_FILTER_SIZE);
        emit(c, java, "sizeof sock_fprog", "sizeof(struct sock_fprog)", Seccomp.SOCK_FPROG_SIZE);
        emit(c, java, "offsetof seccomp_data nr", "offsetof(struct seccomp_data, nr)", Seccomp.DATA_NR);
        emit(c, java, "offsetof seccomp_data arch", "offsetof(struct seccomp_data, arch)", Seccomp.DATA_ARCH);
        emit(c, java, "AUDIT_ARCH_X86_64", "AUDIT_ARCH_X86_64", Integer.toUnsignedLong(Seccomp.AUDIT_ARCH_X86_64));
        emit(c, java, "__X32_SYSCALL_BIT", "0x40000000", Seccomp.X32_SYSCALL_BIT);
        emit(c, java, "SECCOMP_RET_ALLOW", "SECCOMP_RET_ALLOW", Seccomp.RET_ALLOW);
        emit(c, java, "SECCOMP_RET_ERRNO", "SECCOMP_RET_ERRNO", Seccomp.RET_ERRNO);
        emit(c, java, "BPF_LD|BPF_W|BPF_ABS", "BPF_LD|BPF_W|BPF_ABS", Seccomp.LD_W_ABS);
        emit(c, java, "BPF_JMP|BPF_JEQ|BPF_K", "BPF_JMP|BPF_JEQ|BPF_K", Seccomp.JEQ_K);
        emit(c, java, "BPF_JMP|BPF_JGE|BPF_K", "BPF_JMP|BPF_JGE|BPF_K", Seccomp.JGE_K);
        emit(c, java, "BPF_RET|BPF_K", "BPF_RET|BPF_K", Seccomp.RET_K);
        for (Map.Entry<String, Integer> e : Seccomp.DENIED.entrySet()) {
            emit(c, java, "SYS_" + e.getKey(), "SYS_" + e.getKey(), e.getValue());
        }
        c.append("return 0;\n}\n");
        Map<String, String> fromC = CProgram.keyValues(c.toString());
        assertEquals(List.of(), CProgram.mismatches(java, fromC));
        assertEquals(12, Landlock.PATH_BENEATH_ATTR.byteSize(), "landlock_path_beneath_attr is packed");
    }

    private static void emit(StringBuilder c, Map<String, Long> java, String key, String expr, long value) {
        java.put(key, value);
        c.append(" printf(\"%s %llu\\n\", \"").append(key).append("\", (unsigned long long)(").append(expr)
                .append("));\n");
    }
}
