package dev.agentescrow.backend.config;

import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.Operation;
import io.swagger.v3.oas.models.PathItem;
import io.swagger.v3.oas.models.media.Content;
import io.swagger.v3.oas.models.media.MediaType;
import io.swagger.v3.oas.models.media.Schema;
import io.swagger.v3.oas.models.media.StringSchema;
import io.swagger.v3.oas.models.responses.ApiResponse;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.springdoc.core.customizers.OpenApiCustomizer;
import org.springframework.stereotype.Component;

/**
 * The OpenAPI document's examples for the money endpoints (request and response bodies) and every
 * error code the API answers: the document's {@code x-error-codes} (and the {@code Problem} schema's
 * {@code code}) list them all with their meaning, and each money operation names the codes it may
 * answer per status, with an example problem body.
 */
@Component
public class MoneyApiDocs implements OpenApiCustomizer {
    private static final String ALICE = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
    private static final String BOB = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
    private static final String TOKEN = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
    private static final String TX = "0x8a7e5b0d3c0b4f1a9e2d6c5b4a39281706f5e4d3c2b1a0998877665544332211";

    /** Every stable code of a problem answer, and what it means. */
    static final Map<String, String> CODES = new TreeMap<>(Map.ofEntries(
            Map.entry("VALIDATION_FAILED", "400: fields are invalid; errors[] names each (field, code: REQUIRED, INVALID, OUT_OF_RANGE, TOO_MANY, TOO_LARGE, SAME_ACCOUNT, RESERVED_ID, DUPLICATE_ID (a batch naming one id twice), ...)"),
            Map.entry("MALFORMED_JSON", "400: the body is not JSON of the expected shape"),
            Map.entry("UNKNOWN_FIELD", "400: the body has a field the endpoint does not take (e.g. a payer: every write debits the caller)"),
            Map.entry("IDEMPOTENCY_KEY_MISSING", "400: POST /transfers, /transfers/batch and /withdrawals need an Idempotency-Key"),
            Map.entry("IDEMPOTENCY_KEY_INVALID", "400: the Idempotency-Key is empty, too long or has control characters"),
            Map.entry("INVALID_CURSOR", "400: cursor is not a nextCursor this service gave out"),
            Map.entry("HEADER_MISSING", "400: a required header is missing"),
            Map.entry("BAD_REQUEST", "400: the request is missing a required part"),
            Map.entry("UNAUTHENTICATED", "401: no bearer token"),
            Map.entry("INVALID_TOKEN", "401: the access token or API key is invalid, expired or revoked"),
            Map.entry("SIWE_MALFORMED", "401: not a well-formed EIP-4361 message"),
            Map.entry("SIWE_DOMAIN_MISMATCH", "401: the message is for another domain"),
            Map.entry("SIWE_URI_MISMATCH", "401: the message is for another URI"),
            Map.entry("SIWE_CHAIN_MISMATCH", "401: the message is for another chain"),
            Map.entry("SIWE_EXPIRED", "401: the message has expired"),
            Map.entry("SIWE_NOT_YET_VALID", "401: the message is not valid yet"),
            Map.entry("SIWE_BAD_SIGNATURE", "401: the signature is not the address's"),
            Map.entry("SIWE_NONCE_UNKNOWN", "401: the nonce was not issued here, or was used"),
            Map.entry("SIWE_NONCE_EXPIRED", "401: the nonce has expired"),
            Map.entry("FORBIDDEN", "403: the principal lacks the role (admin endpoints)"),
            Map.entry("API_KEY_NOT_ALLOWED", "403: an API key may not create API keys (sign in with SIWE)"),
            Map.entry("NOT_FOUND", "404: no such resource, or another principal's"),
            Map.entry("METHOD_NOT_ALLOWED", "405"),
            Map.entry("IDEMPOTENCY_REQUEST_IN_FLIGHT", "409: the first request with this key is still running"),
            Map.entry("TRANSFER_ID_CONFLICT", "409: a different transfer with this id was committed earlier"),
            Map.entry("API_KEY_LIMIT", "409: at most 20 active API keys per address"),
            Map.entry("BODY_TOO_LARGE", "413: the body is over 1 MiB"),
            Map.entry("UNSUPPORTED_MEDIA_TYPE", "415: send application/json"),
            Map.entry("IDEMPOTENCY_KEY_REUSED", "422: the key was used with another body or path"),
            Map.entry("INSUFFICIENT_FUNDS", "422: the caller's available balance is smaller than the amount"),
            Map.entry("UNKNOWN_TOKEN", "422: the service does not accept this token"),
            Map.entry("TRANSFER_LIMIT_EXCEEDED", "422: the amount is above the per-transfer limit"),
            Map.entry("DAILY_LIMIT_EXCEEDED", "422: the amount would pass today's (UTC) limit of the account in this token"),
            Map.entry("AMOUNT_EXCEEDS_LIMIT", "422: the amount is above the token's ledger limit (2^85 - 1 at most)"),
            Map.entry("BALANCE_EXCEEDS_LIMIT", "422: the payee's balance would pass the token's balance limit"),
            Map.entry("SAME_ACCOUNT", "422: payer and payee are the same account"),
            Map.entry("INVALID_AMOUNT", "422: the ledger refused the amount"),
            Map.entry("INVALID_REFERENCE", "422: the reference is too long or has control characters"),
            Map.entry("INVALID_ADDRESS", "422: the ledger refused an address"),
            Map.entry("RESERVED_ID", "422: the id is in the system's reserved namespace (ffffffff-...)"),
            Map.entry("LINKED_TRANSFER_FAILED", "batch item: another item of an atomic batch failed, so none committed"),
            Map.entry("RATE_LIMITED", "429: too many requests; see Retry-After"),
            Map.entry("INTERNAL_ERROR", "500: never expected; reported"),
            Map.entry("LEDGER_UNAVAILABLE", "503: the ledger or its database did not answer; retry with the same Idempotency-Key"),
            Map.entry("CHAIN_UNAVAILABLE", "503: the chain node did not answer"),
            Map.entry("NOT_YET_VISIBLE", "503: this instance has not reached the X-Min-Sequence asked for within 5 s; see Retry-After"),
            Map.entry("TOO_MANY_ACCOUNTS", "503: the ledger is at its configured capacity"),
            Map.entry("TOO_MANY_PENDING", "503: the ledger is at its configured capacity")));

    private record Doc(Object request, String status, Object response, Map<String, List<String>> problems) {
    }

    private static final Map<String, List<String>> WRITE_PROBLEMS = Map.of(
            "400", List.of("VALIDATION_FAILED", "MALFORMED_JSON", "UNKNOWN_FIELD", "IDEMPOTENCY_KEY_MISSING",
                    "IDEMPOTENCY_KEY_INVALID"),
            "401", List.of("UNAUTHENTICATED", "INVALID_TOKEN"),
            "409", List.of("IDEMPOTENCY_REQUEST_IN_FLIGHT", "TRANSFER_ID_CONFLICT"),
            "422", List.of("IDEMPOTENCY_KEY_REUSED", "INSUFFICIENT_FUNDS", "UNKNOWN_TOKEN", "TRANSFER_LIMIT_EXCEEDED",
                    "DAILY_LIMIT_EXCEEDED", "AMOUNT_EXCEEDS_LIMIT", "BALANCE_EXCEEDS_LIMIT", "SAME_ACCOUNT",
                    "INVALID_REFERENCE", "RESERVED_ID"),
            "429", List.of("RATE_LIMITED"),
            "503", List.of("LEDGER_UNAVAILABLE", "TOO_MANY_ACCOUNTS", "TOO_MANY_PENDING"));

    private static Map<String, List<String>> readProblems(String... extra400) {
        Map<String, List<String>> problems = new LinkedHashMap<>();
        problems.put("400", List.of(extra400.length == 0 ? new String[] {"VALIDATION_FAILED"} : extra400));
        problems.put("401", List.of("UNAUTHENTICATED", "INVALID_TOKEN"));
        problems.put("404", List.of("NOT_FOUND"));
        problems.put("429", List.of("RATE_LIMITED"));
        problems.put("503", List.of("LEDGER_UNAVAILABLE", "NOT_YET_VISIBLE", "CHAIN_UNAVAILABLE"));
        return problems;
    }

    private static Map<String, Object> transfer(String status) {
        Map<String, Object> t = new LinkedHashMap<>();
        t.put("id", "5f0c6a9e-8c1b-4a7e-9d2f-3b4c5d6e7f80");
        t.put("status", status);
        t.put("sequence", 48213);
        t.put("committedAt", "2026-12-01T04:15:02.318Z");
        t.put("kind", "SINGLE");
        t.put("from", ALICE);
        t.put("to", BOB);
        t.put("token", TOKEN);
        t.put("amount", "250000");
        t.put("reference", "task-42");
        return t;
    }

    private static final Map<String, Doc> DOCS = docs();

    private static Map<String, Doc> docs() {
        Map<String, Doc> docs = new LinkedHashMap<>();
        docs.put("POST /api/v1/transfers", new Doc(
                Map.of("to", BOB, "token", TOKEN, "amount", "250000", "reference", "task-42"), "201",
                transfer("COMMITTED"), WRITE_PROBLEMS));
        docs.put("POST /api/v1/transfers/batch", new Doc(
                Map.of("atomic", false, "transfers", List.of(
                        Map.of("to", BOB, "token", TOKEN, "amount", "1000", "reference", "tick-1"),
                        Map.of("to", BOB, "token", TOKEN, "amount", "999999999999999"))), "200",
                Map.of("results", List.of(
                        Map.of("index", 0, "status", "COMMITTED", "id", "0e7d1c2b-3a49-4f58-8e67-d5c4b3a29180",
                                "sequence", 48214),
                        Map.of("index", 1, "status", "REJECTED", "id", "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
                                "code", "INSUFFICIENT_FUNDS"))), WRITE_PROBLEMS));
        Map<String, Object> settled = transfer("SETTLED");
        settled.put("batchId", 17);
        settled.put("settlement", Map.of("batchId", 17, "txHash", TX, "blockNumber", 912,
                "merkleRoot", "0x3f1c0d9e8b7a6f5e4d3c2b1a09f8e7d6c5b4a3928170f6e5d4c3b2a190817263",
                "leaf", Map.of("transferId", "0x000000000000000000000000000000005f0c6a9e8c1b4a7e9d2f3b4c5d6e7f80",
                        "token", TOKEN, "from", ALICE, "to", BOB, "amount", "250000"),
                "proof", List.of("0x9d2c4b6a8f0e1d3c5b7a9f8e6d4c2b0a1f3e5d7c9b8a6f4e2d0c1b3a5f7e9d8c")));
        docs.put("GET /api/v1/transfers/{id}", new Doc(null, "200", settled, readProblems()));
        docs.put("GET /api/v1/accounts/me/transfers", new Doc(null, "200", Map.of(
                "items", List.of(transfer(null).entrySet().stream().filter(e -> e.getValue() != null)
                        .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue, (a, b) -> a, LinkedHashMap::new))),
                "nextCursor", "aDE6NDgyMTM"), readProblems("VALIDATION_FAILED", "INVALID_CURSOR")));
        docs.put("GET /api/v1/accounts/me", new Doc(null, "200", Map.of("address", ALICE, "sequence", 48213,
                "balances", List.of(Map.of("token", TOKEN, "available", "9750000", "held", "0", "incoming", "0",
                        "pendingWithdrawal", "500", "settledOnChain", "10000000"))), readProblems()));
        docs.put("POST /api/v1/withdrawals", new Doc(Map.of("token", TOKEN, "amount", "500"), "201",
                Map.of("id", "1b2c3d4e-5f60-4718-8293-a4b5c6d7e8f9", "state", "REQUESTED", "sequence", 48215,
                        "token", TOKEN, "amount", "500", "createdAt", "2026-12-01T04:15:03Z"), WRITE_PROBLEMS));
        docs.put("GET /api/v1/withdrawals/{id}", new Doc(null, "200",
                Map.of("id", "1b2c3d4e-5f60-4718-8293-a4b5c6d7e8f9", "state", "PAID", "sequence", 48215,
                        "token", TOKEN, "amount", "500", "createdAt", "2026-12-01T04:15:03Z", "batchId", 18,
                        "txHash", TX), readProblems()));
        docs.put("GET /api/v1/deposits", new Doc(null, "200", Map.of("items", List.of(
                Map.of("txHash", TX, "logIndex", 1, "blockNumber", 905, "token", TOKEN, "amount", "10000000",
                        "confirmations", 8, "state", "CREDITED")),
                "nextCursor", "ZDE6OTA1OjE6MHg5ZjNi"), readProblems("VALIDATION_FAILED", "INVALID_CURSOR")));
        docs.put("GET /api/v1/batches/{id}", new Doc(null, "200", batch(), readProblems()));
        docs.put("GET /api/v1/batches", new Doc(null, "200", Map.of("items", List.of(batch())),
                readProblems("VALIDATION_FAILED")));
        return docs;
    }

    private static Map<String, Object> batch() {
        Map<String, Object> b = new LinkedHashMap<>();
        b.put("id", 18);
        b.put("state", "CONFIRMED");
        b.put("txHash", TX);
        b.put("gasUsed", 240_000);
        b.put("gasPerTransfer", 2_400);
        b.put("transferCount", 98);
        b.put("withdrawalCount", 2);
        b.put("accountCount", 40);
        b.put("merkleRoot", "0x3f1c0d9e8b7a6f5e4d3c2b1a09f8e7d6c5b4a3928170f6e5d4c3b2a190817263");
        return b;
    }

    @Override
    public void customise(OpenAPI openApi) {
        Map<String, Object> codes = new LinkedHashMap<>(CODES);
        if (openApi.getExtensions() != null && openApi.getExtensions().get("x-error-codes") instanceof Map<?, ?> others) {
            others.forEach((k, v) -> codes.putIfAbsent(String.valueOf(k), v));
        }
        openApi.addExtension("x-error-codes", codes);
        Schema<?> problem = openApi.getComponents().getSchemas().get("Problem");
        if (problem != null) {
            StringSchema code = new StringSchema();
            CODES.keySet().forEach(code::addEnumItem);
            code.description("stable error code:\n" + CODES.entrySet().stream()
                    .map(e -> "- `" + e.getKey() + "`: " + e.getValue()).collect(Collectors.joining("\n")));
            problem.addProperty("code", code);
        }
        DOCS.forEach((key, doc) -> {
            String[] parts = key.split(" ", 2);
            PathItem path = openApi.getPaths() == null ? null : openApi.getPaths().get(parts[1]);
            Operation operation = path == null ? null : path.readOperationsMap().get(PathItem.HttpMethod.valueOf(parts[0]));
            if (operation != null) {
                document(operation, doc);
            }
        });
    }

    private static void document(Operation operation, Doc doc) {
        if (doc.request() != null && operation.getRequestBody() != null && operation.getRequestBody().getContent() != null) {
            operation.getRequestBody().getContent().values().forEach(media -> media.setExample(doc.request()));
        }
        ApiResponse ok = operation.getResponses().get(doc.status());
        if (ok == null) {
            ok = new ApiResponse().description("OK");
            operation.getResponses().put(doc.status(), ok);
        }
        if (ok.getContent() == null || ok.getContent().isEmpty()) {
            ok.setContent(new Content().addMediaType("application/json", new MediaType()));
        }
        ApiResponse success = ok;
        success.getContent().values().forEach(media -> media.setExample(doc.response()));
        doc.problems().forEach((status, codes) -> {
            Map<String, Object> example = new LinkedHashMap<>();
            example.put("type", "about:blank");
            example.put("title", titleOf(status));
            example.put("status", Integer.parseInt(status));
            example.put("detail", CODES.get(codes.getFirst()));
            example.put("code", codes.getFirst());
            operation.getResponses().put(status, new ApiResponse()
                    .description(codes.stream().map(c -> "`" + c + "`: " + CODES.get(c)).collect(Collectors.joining("; ")))
                    .content(new Content().addMediaType("application/problem+json", new MediaType()
                            .schema(new Schema<>().$ref("#/components/schemas/Problem")).example(example))));
        });
    }

    private static String titleOf(String status) {
        return switch (status) {
            case "400" -> "Bad Request";
            case "401" -> "Unauthorized";
            case "404" -> "Not Found";
            case "409" -> "Conflict";
            case "422" -> "Unprocessable Content";
            case "429" -> "Too Many Requests";
            default -> "Service Unavailable";
        };
    }
}
