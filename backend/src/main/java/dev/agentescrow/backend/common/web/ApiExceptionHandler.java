package dev.agentescrow.backend.common.web;

import dev.agentescrow.backend.gateway.LedgerUnavailableException;
import dev.agentescrow.chain.ChainException;
import jakarta.validation.ConstraintViolationException;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.security.access.AccessDeniedException;
import org.springframework.security.core.AuthenticationException;
import org.springframework.web.ErrorResponse;
import org.springframework.web.HttpMediaTypeNotSupportedException;
import org.springframework.web.HttpRequestMethodNotSupportedException;
import org.springframework.web.bind.MethodArgumentNotValidException;
import org.springframework.web.bind.MissingRequestHeaderException;
import org.springframework.web.bind.MissingServletRequestParameterException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.context.request.WebRequest;
import org.springframework.web.method.annotation.HandlerMethodValidationException;
import org.springframework.web.method.annotation.MethodArgumentTypeMismatchException;
import org.springframework.web.servlet.mvc.method.annotation.ResponseEntityExceptionHandler;
import org.springframework.web.servlet.resource.NoResourceFoundException;

/** Maps every failure to problem+json with a stable code; nothing a client sends yields a 5xx. */
@RestControllerAdvice
public class ApiExceptionHandler extends ResponseEntityExceptionHandler {
    private static final Logger log = LoggerFactory.getLogger(ApiExceptionHandler.class);

    @ExceptionHandler(ApiException.class)
    ResponseEntity<ProblemDetail> api(ApiException e) {
        HttpHeaders headers = new HttpHeaders();
        e.headers().forEach(headers::add);
        return ResponseEntity.status(e.status()).headers(headers)
                .body(Problems.of(e.status(), e.code(), e.getMessage(), e.errors()));
    }

    @ExceptionHandler(MethodArgumentTypeMismatchException.class)
    ResponseEntity<ProblemDetail> typeMismatch(MethodArgumentTypeMismatchException e) {
        return problem(HttpStatus.BAD_REQUEST, "VALIDATION_FAILED", "invalid parameter " + e.getName(),
                List.of(Map.of("field", e.getName(), "code", "INVALID", "message", "not a valid value")));
    }

    @ExceptionHandler(ConstraintViolationException.class)
    ResponseEntity<ProblemDetail> constraint(ConstraintViolationException e) {
        List<Map<String, String>> errors = e.getConstraintViolations().stream()
                .map(v -> Map.of("field", String.valueOf(v.getPropertyPath()), "code", "INVALID",
                        "message", v.getMessage())).toList();
        return problem(HttpStatus.BAD_REQUEST, "VALIDATION_FAILED", "the request has invalid fields", errors);
    }

    @ExceptionHandler(LedgerUnavailableException.class)
    ResponseEntity<ProblemDetail> ledger(LedgerUnavailableException e) {
        log.warn("ledger unavailable: {}", e.getMessage());
        return problem(HttpStatus.SERVICE_UNAVAILABLE, "LEDGER_UNAVAILABLE",
                "the ledger did not answer; retry with the same Idempotency-Key", List.of());
    }

    @ExceptionHandler(ChainException.class)
    ResponseEntity<ProblemDetail> chain(ChainException e) {
        log.warn("chain unavailable: {}", e.getMessage());
        return problem(HttpStatus.SERVICE_UNAVAILABLE, "CHAIN_UNAVAILABLE", "the chain node did not answer", List.of());
    }

    @ExceptionHandler(AuthenticationException.class)
    ResponseEntity<ProblemDetail> unauthenticated(AuthenticationException e) {
        return problem(HttpStatus.UNAUTHORIZED, "UNAUTHENTICATED", "authentication required", List.of());
    }

    @ExceptionHandler(AccessDeniedException.class)
    ResponseEntity<ProblemDetail> denied(AccessDeniedException e) {
        return problem(HttpStatus.FORBIDDEN, "FORBIDDEN", "this principal may not do that", List.of());
    }

    @ExceptionHandler(Exception.class)
    ResponseEntity<ProblemDetail> unexpected(Exception e) {
        log.error("unexpected failure", e);
        return problem(HttpStatus.INTERNAL_SERVER_ERROR, "INTERNAL_ERROR", "unexpected failure", List.of());
    }

    @Override
    protected ResponseEntity<Object> handleMethodArgumentNotValid(MethodArgumentNotValidException e,
            HttpHeaders headers, HttpStatusCode status, WebRequest request) {
        List<Map<String, String>> errors = e.getBindingResult().getFieldErrors().stream()
                .map(f -> Map.of("field", f.getField(), "code", String.valueOf(f.getCode()).toUpperCase(java.util.Locale.ROOT),
                        "message", String.valueOf(f.getDefaultMessage()))).toList();
        return body(HttpStatus.BAD_REQUEST, "VALIDATION_FAILED", "the request has invalid fields", errors);
    }

    @Override
    protected ResponseEntity<Object> handleHandlerMethodValidationException(HandlerMethodValidationException e,
            HttpHeaders headers, HttpStatusCode status, WebRequest request) {
        List<Map<String, String>> errors = e.getParameterValidationResults().stream()
                .flatMap(r -> r.getResolvableErrors().stream().map(err -> Map.of(
                        "field", String.valueOf(r.getMethodParameter().getParameterName()),
                        "code", "INVALID", "message", String.valueOf(err.getDefaultMessage())))).toList();
        return body(HttpStatus.BAD_REQUEST, "VALIDATION_FAILED", "the request has invalid parameters", errors);
    }

    @Override
    protected ResponseEntity<Object> handleHttpMessageNotReadable(HttpMessageNotReadableException e,
            HttpHeaders headers, HttpStatusCode status, WebRequest request) {
        String detail = e.getMostSpecificCause() instanceof tools.jackson.databind.exc.UnrecognizedPropertyException unknown
                ? "unknown field '" + unknown.getPropertyName() + "'"
                : "the body is not valid JSON of the expected shape";
        String code = e.getMostSpecificCause() instanceof tools.jackson.databind.exc.UnrecognizedPropertyException
                ? "UNKNOWN_FIELD" : "MALFORMED_JSON";
        return body(HttpStatus.BAD_REQUEST, code, detail, List.of());
    }

    @Override
    protected ResponseEntity<Object> handleServletRequestBindingException(
            org.springframework.web.bind.ServletRequestBindingException e,
            HttpHeaders headers, HttpStatusCode status, WebRequest request) {
        if (e instanceof MissingRequestHeaderException missing) {
            String code = "Idempotency-Key".equalsIgnoreCase(missing.getHeaderName())
                    ? "IDEMPOTENCY_KEY_MISSING" : "HEADER_MISSING";
            return body(HttpStatus.BAD_REQUEST, code, "header " + missing.getHeaderName() + " is required", List.of());
        }
        return body(HttpStatus.BAD_REQUEST, "BAD_REQUEST", "the request is missing a required part", List.of());
    }

    @Override
    protected ResponseEntity<Object> handleMissingServletRequestParameter(MissingServletRequestParameterException e,
            HttpHeaders headers, HttpStatusCode status, WebRequest request) {
        return body(HttpStatus.BAD_REQUEST, "VALIDATION_FAILED", "parameter " + e.getParameterName() + " is required",
                List.of(Map.of("field", e.getParameterName(), "code", "REQUIRED", "message", "required")));
    }

    @Override
    protected ResponseEntity<Object> handleHttpRequestMethodNotSupported(HttpRequestMethodNotSupportedException e,
            HttpHeaders headers, HttpStatusCode status, WebRequest request) {
        return body(HttpStatus.METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED", e.getMessage(), List.of());
    }

    @Override
    protected ResponseEntity<Object> handleHttpMediaTypeNotSupported(HttpMediaTypeNotSupportedException e,
            HttpHeaders headers, HttpStatusCode status, WebRequest request) {
        return body(HttpStatus.UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED_MEDIA_TYPE", "send application/json", List.of());
    }

    @Override
    protected ResponseEntity<Object> handleNoResourceFoundException(NoResourceFoundException e,
            HttpHeaders headers, HttpStatusCode status, WebRequest request) {
        return body(HttpStatus.NOT_FOUND, "NOT_FOUND", "no such resource", List.of());
    }

    @Override
    protected ResponseEntity<Object> handleExceptionInternal(Exception e, Object body, HttpHeaders headers,
            HttpStatusCode statusCode, WebRequest request) {
        HttpStatus status = HttpStatus.valueOf(statusCode.value());
        String code = e instanceof ErrorResponse ? status.name() : "INTERNAL_ERROR";
        return body(status, code, status.getReasonPhrase(), List.of());
    }

    private static ResponseEntity<ProblemDetail> problem(HttpStatus status, String code, String detail,
                                                         List<Map<String, String>> errors) {
        return ResponseEntity.status(status).body(Problems.of(status, code, detail, errors));
    }

    private static ResponseEntity<Object> body(HttpStatus status, String code, String detail,
                                               List<Map<String, String>> errors) {
        return ResponseEntity.status(status).body(Problems.of(status, code, detail, errors));
    }
}
