package dev.agentescrow.backend.common.web;

import java.util.List;
import java.util.Map;
import org.springframework.http.HttpStatus;

/**
 * An expected refusal of a request, answered as RFC 9457 problem+json with a stable {@code code}.
 * Thrown only at the web edge; the layers below return results.
 */
public class ApiException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final HttpStatus status;
    private final String code;
    private final transient List<Map<String, String>> errors;
    private final transient Map<String, String> headers;

    public ApiException(HttpStatus status, String code, String detail) {
        this(status, code, detail, List.of(), Map.of());
    }

    public ApiException(HttpStatus status, String code, String detail, List<Map<String, String>> errors,
                        Map<String, String> headers) {
        super(detail, null, false, false);
        this.status = status;
        this.code = code;
        this.errors = List.copyOf(errors);
        this.headers = Map.copyOf(headers);
    }

    public static ApiException badRequest(String code, String detail) {
        return new ApiException(HttpStatus.BAD_REQUEST, code, detail);
    }

    public static ApiException notFound(String what) {
        return new ApiException(HttpStatus.NOT_FOUND, "NOT_FOUND", what + " not found");
    }

    /** One field error: 400 VALIDATION_FAILED with {@code errors[]}. */
    public static ApiException invalidField(String field, String code, String message) {
        return new ApiException(HttpStatus.BAD_REQUEST, "VALIDATION_FAILED", "the request has invalid fields",
                List.of(Map.of("field", field, "code", code, "message", message)), Map.of());
    }

    public HttpStatus status() {
        return status;
    }

    public String code() {
        return code;
    }

    public List<Map<String, String>> errors() {
        return errors;
    }

    public Map<String, String> headers() {
        return headers;
    }
}
