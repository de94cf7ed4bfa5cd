package dev.agentescrow.backend.common.web;

import java.util.concurrent.atomic.AtomicLong;
import org.springframework.stereotype.Component;
import org.springframework.web.context.request.RequestAttributes;
import org.springframework.web.context.request.RequestContextHolder;

/**
 * Read-your-writes without a header: the highest ledger sequence this instance has acknowledged to
 * any client (its own writes' receipts, and the leader's position after a write it forwarded). A
 * read without {@code X-Min-Sequence} waits for at least this position, so a client that got a
 * 2xx for a write sees it in its next read on the same instance (and no read on this instance goes
 * back behind what it acknowledged). The value only grows; it lives in memory: a restarted
 * instance starts from 0 and has acknowledged nothing yet.
 */
@Component
public class ReadFloor {
    /** Request attribute: a write in this request noted its own sequence (no position query needed after it). */
    static final String NOTED = ReadFloor.class.getName() + ".noted";

    private final AtomicLong acknowledged = new AtomicLong();

    /** Notes a sequence this instance is about to acknowledge (a committed write's receipt). */
    public void acknowledged(long sequence) {
        if (sequence > 0) {
            acknowledged.accumulateAndGet(sequence, Math::max);
            RequestAttributes request = RequestContextHolder.getRequestAttributes();
            if (request != null) {
                request.setAttribute(NOTED, Boolean.TRUE, RequestAttributes.SCOPE_REQUEST);
            }
        }
    }

    /** Whether a write in the current request noted its sequence already. */
    public static boolean notedIn(jakarta.servlet.http.HttpServletRequest request) {
        return request.getAttribute(NOTED) != null;
    }

    /** The position a read must include: the client's {@code minSequence} or this instance's floor, whichever is higher. */
    public long atLeast(long minSequence) {
        return Math.max(minSequence, acknowledged.get());
    }

    public long position() {
        return acknowledged.get();
    }
}
