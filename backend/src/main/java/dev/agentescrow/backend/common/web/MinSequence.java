package dev.agentescrow.backend.common.web;

import dev.agentescrow.batcher.read.Read;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.springframework.http.HttpStatus;

/**
 * Read-your-writes on any instance: a client passes the {@code sequence} of a write it made as the
 * header {@code X-Min-Sequence} or the query parameter {@code minSequence}, and the read includes
 * that write (it waits a few seconds for the ledger to reach it, else answers 503
 * {@code NOT_YET_VISIBLE} with {@code Retry-After}).
 */
public final class MinSequence {
    public static final String HEADER = "X-Min-Sequence";
    public static final String PARAMETER = "minSequence";

    private MinSequence() {
    }

    /** The requested sequence (0: none); the header wins over the parameter. */
    public static long parse(String header, String parameter) {
        String value = header != null && !header.isBlank() ? header : parameter;
        if (value == null || value.isBlank()) {
            return 0;
        }
        if (!value.matches("[0-9]{1,18}")) {
            throw ApiException.invalidField(PARAMETER, "INVALID", "a non-negative integer: a write's sequence");
        }
        return Long.parseLong(value);
    }

    /** The read's value, if any; a read that did not reach the sequence is 503 NOT_YET_VISIBLE. */
    public static <T> Optional<T> require(Read<T> read) {
        if (read.status() == Read.Status.NOT_YET) {
            throw new ApiException(HttpStatus.SERVICE_UNAVAILABLE, "NOT_YET_VISIBLE",
                    "this instance has not yet caught up with the requested sequence (it is at "
                            + read.position() + "); retry", List.of(), Map.of("Retry-After", "1"));
        }
        return read.get();
    }
}
