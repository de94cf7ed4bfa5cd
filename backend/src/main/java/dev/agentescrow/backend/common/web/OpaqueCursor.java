package dev.agentescrow.backend.common.web;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.springframework.http.HttpStatus;

/** The wrapping of the lists' cursors: an ASCII position text, base64url without padding, opaque to clients. */
public final class OpaqueCursor {
    private OpaqueCursor() {
    }

    public static String wrap(String text) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(text.getBytes(StandardCharsets.US_ASCII));
    }

    /** The text of {@code cursor}; 400 INVALID_CURSOR when it is longer than {@code maxLength} or not base64url. */
    public static String unwrap(String cursor, int maxLength) {
        if (cursor.length() > maxLength) {
            throw invalid();
        }
        try {
            return new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.US_ASCII);
        } catch (IllegalArgumentException e) {
            throw invalid();
        }
    }

    /** 400 INVALID_CURSOR. */
    public static ApiException invalid() {
        return new ApiException(HttpStatus.BAD_REQUEST, "INVALID_CURSOR", "cursor is not a nextCursor this list gave out");
    }
}
