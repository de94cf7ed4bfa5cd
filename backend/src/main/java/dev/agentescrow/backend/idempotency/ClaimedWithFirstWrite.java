package dev.agentescrow.backend.idempotency;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * On a POST handler method: the handler claims its request's {@code Idempotency-Key} in its first
 * write's statement ({@link IdempotencyFilter#pendingClaim}, {@link IdempotencyStore#CLAIM_CTE})
 * instead of in a round trip of its own before it runs, and writes nothing before that statement.
 * A request that ends before any write (a validation error) stores its answer afterwards.
 */
@Target(ElementType.METHOD)
@Retention(RetentionPolicy.RUNTIME)
public @interface ClaimedWithFirstWrite {
}
