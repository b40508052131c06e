package hg.api.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class BoundedSenderTest {
    @Test
    void aClientThatDoesNotKeepUpLosesOutputNotMemory() {
        List<Runnable> unfinished = new ArrayList<>();
        List<Integer> sent = new ArrayList<>();
        BoundedSender s = new BoundedSender(100, (bytes, done) -> {
            sent.add(bytes.remaining());
            unfinished.add(done);
        });
        byte[] forty = new byte[40];
        s.offer(forty, 0, 40);
        s.offer(forty, 0, 40);
        s.offer(forty, 0, 40); // 120 > 100 in flight: dropped
        s.offer(forty, 10, 20);
        assertEquals(List.of(40, 40, 20), sent);
        assertEquals(100, s.inFlight());
        assertEquals(40, s.dropped());
        unfinished.forEach(Runnable::run);
        assertEquals(0, s.inFlight());
        s.offer(forty, 0, 40);
        assertEquals(4, sent.size(), "once the client has caught up, output flows again");
        s.offer(forty, 0, 0);
        assertEquals(4, sent.size(), "nothing to send sends nothing");
    }
}
