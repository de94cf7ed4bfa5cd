package dev.agentescrow.backend.cluster;

import dev.agentescrow.backend.common.web.Problems;
import dev.agentescrow.batcher.leadership.NotLeaderException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;

/**
 * A handler that needed the ledger's writer on an instance that (no longer) leads: the lead moved
 * between the forwarding decision and the call. 503 {@code LEADER_UNAVAILABLE}; the client retries
 * with the same Idempotency-Key (a 5xx frees the key) and reaches the new leader.
 */
@RestControllerAdvice
@Order(Ordered.HIGHEST_PRECEDENCE)
public class NotLeaderAdvice {
    private static final Logger log = LoggerFactory.getLogger(NotLeaderAdvice.class);

    @ExceptionHandler(NotLeaderException.class)
    ResponseEntity<ProblemDetail> notLeader(NotLeaderException e) {
        log.info("refused while not leading: {}", e.getMessage());
        return ResponseEntity.status(HttpStatus.SERVICE_UNAVAILABLE).header("Retry-After", "1")
                .body(Problems.of(HttpStatus.SERVICE_UNAVAILABLE, LeaderForwardingFilter.CODE,
                        "this instance does not lead the ledger right now; retry with the same Idempotency-Key",
                        java.util.List.of()));
    }
}
