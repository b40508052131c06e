package hg.kvm.net;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** How a load ends, with stand-ins for nft: none of these touches a network. */
class NftTest {

    static final String BIG = "x".repeat(4 << 20);

    @Test
    void aProgramThatTakesItAllAndSucceedsLoaded() {
        assertInstanceOf(Nft.Outcome.Loaded.class,
                Nft.load(Path.of("/bin/sh"), out -> out.append("read -r x; exec cat >/dev/null\n").append(BIG)));
    }

    @Test
    void aProgramThatStopsReadingAndFailsSaysWhy() {
        Nft.Outcome o = Nft.load(Path.of("/bin/sh"),
                out -> out.append("echo 'Error: syntax error'; echo '  here'; echo more; exit 1\n").append(BIG));
        Nft.Outcome.Failed f = assertInstanceOf(Nft.Outcome.Failed.class, o);
        assertEquals("/bin/sh exited with 1: Error: syntax error / here", f.why());
    }

    @Test
    void aProgramThatCannotRunIsAFailureNotAnException() {
        Nft.Outcome.Failed f = assertInstanceOf(Nft.Outcome.Failed.class,
                Nft.load(Path.of("/nonexistent/nft"), out -> out.append("table x\n")));
        assertTrue(f.why().startsWith("cannot run /nonexistent/nft: "), f.why());
    }

    @Test
    void theProgramIsLookedForOnlyWhereDistributionsPutIt() {
        Nft.program().ifPresent(p -> assertTrue(Nft.PLACES.contains(p)));
    }
}
