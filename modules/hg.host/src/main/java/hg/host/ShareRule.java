package hg.host;

import java.nio.file.Path;

/** Which host directories guests may be given as shared folders. */
public sealed interface ShareRule {
    /** Any directory the VMM can open (a hosted shell: its user chose it). */
    record Anywhere() implements ShareRule {}

    /** Only subdirectories of {@code root} (the boot image's guest_share=). */
    record Beneath(Path root) implements ShareRule {}

    /** None; {@code hint} says how to allow some. */
    record Nowhere(String hint) implements ShareRule {}
}
