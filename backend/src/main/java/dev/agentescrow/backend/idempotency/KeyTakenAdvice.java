package dev.agentescrow.backend.idempotency;

import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;

/**
 * A {@link ClaimedWithFirstWrite} handler that found its key held ends with
 * {@link PendingClaim.KeyTakenException}; {@link IdempotencyFilter} replaces this answer with what
 * the key's record says. This only keeps the exception from being logged as an unexpected failure.
 */
@RestControllerAdvice
@Order(Ordered.HIGHEST_PRECEDENCE + 1)
class KeyTakenAdvice {
    @ExceptionHandler(PendingClaim.KeyTakenException.class)
    ResponseEntity<ProblemDetail> taken(PendingClaim.KeyTakenException e) {
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(HttpStatus.CONFLICT,
                "a request with this Idempotency-Key is still being processed");
        problem.setProperty("code", "IDEMPOTENCY_REQUEST_IN_FLIGHT");
        return ResponseEntity.status(HttpStatus.CONFLICT).body(problem);
    }
}
