package dev.agentescrow.backend.common.web;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Objects;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The opaque cursor of a list of the service's own rows kept newest first by (creation time, id):
 * "rows created before this one", base64url of a list prefix, the time in microseconds (what
 * PostgreSQL keeps) and the id. Anything else, or another list's cursor, is 400 INVALID_CURSOR.
 */
public final class CreatedCursor {
    private static final Pattern POSITION = Pattern.compile(
            "(0|[1-9][0-9]{0,17}):([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})");
    private static final int MAX_LENGTH = 96;

    private CreatedCursor() {
    }

    /** Where a row sorts: its creation time, then its id. */
    public record Position(Instant createdAt, UUID id) {
        public Position {
            Objects.requireNonNull(createdAt, "createdAt");
            Objects.requireNonNull(id, "id");
        }
    }

    /** @param list a short name of the list ("k1" for API keys, "w1" for withdrawals) */
    public static String encode(String list, Position position) {
        return OpaqueCursor.wrap(list + ":" + ChronoUnit.MICROS.between(Instant.EPOCH, position.createdAt()) + ":"
                + position.id());
    }

    public static Position decode(String list, String cursor) {
        String text = OpaqueCursor.unwrap(cursor, MAX_LENGTH);
        String prefix = list + ":";
        Matcher m = POSITION.matcher(text.startsWith(prefix) ? text.substring(prefix.length()) : "");
        if (!m.matches()) {
            throw OpaqueCursor.invalid();
        }
        return new Position(Instant.EPOCH.plus(Long.parseLong(m.group(1)), ChronoUnit.MICROS), UUID.fromString(m.group(2)));
    }
}
