package dev.agentescrow.backend.escrow.web;

import dev.agentescrow.backend.common.web.ApiException;
import dev.agentescrow.backend.common.web.Inputs;
import dev.agentescrow.backend.common.web.Principals;
import dev.agentescrow.backend.escrow.Escrow;
import dev.agentescrow.backend.escrow.EscrowRole;
import dev.agentescrow.backend.escrow.EscrowRules;
import dev.agentescrow.backend.escrow.EscrowSettings;
import dev.agentescrow.backend.escrow.EscrowState;
import dev.agentescrow.backend.escrow.EscrowStore;
import dev.agentescrow.backend.escrow.Escrows;
import dev.agentescrow.backend.escrow.FallbackRule;
import dev.agentescrow.batcher.ledger.TransferRequest;
import dev.agentescrow.chain.Address;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
import java.math.BigInteger;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * Ledger-custody escrows: create (the payer's funds move at once into the escrow's ledger
 * account), the actions of the TaskEscrow state machine, and the caller's escrows with their
 * history. Every POST needs an Idempotency-Key (a replay answers the first response).
 */
@RestController
@RequestMapping("/api/v1/escrows")
@Tag(name = "escrows", description = "Escrows held in the ledger: terms and states of the TaskEscrow contract")
public class EscrowController {
    private static final Pattern HASH = Pattern.compile("0x[0-9a-fA-F]{64}");
    private static final Pattern ESCROW_ID = Pattern.compile("esc_[0-9a-f]{32}");
    private static final String ZERO_HASH = "0x" + "0".repeat(64);
    private static final BigInteger MAX_UINT256 = BigInteger.ONE.shiftLeft(256).subtract(BigInteger.ONE);
    private static final int MAX_PAGE = 100;
    static final String OK = "the escrow after the action, with its history";
    static final String CONFLICT = "ESCROW_INVALID_STATE, ESCROW_ALREADY_ACCEPTED, ESCROW_ACTION_CONFLICT,"
            + " IDEMPOTENCY_REQUEST_IN_FLIGHT";
    static final String FORBIDDEN = "ESCROW_ROLE_REQUIRED (a party without the role)";
    static final String NOT_FOUND = "NOT_FOUND (not a party of the escrow)";
    static final String UNPROCESSABLE = "ESCROW_DEADLINE_PASSED, ESCROW_PAYEE_ACCEPTED, ESCROW_DEADLINE_NOT_REACHED,"
            + " ESCROW_IN_GRACE_PERIOD, ESCROW_DISPUTE_CLOSED, ESCROW_ARBITRATION_CLOSED, ESCROW_ARBITRATION_OPEN,"
            + " ESCROW_ATOMIC, ESCROW_UNKNOWN_PAYEE, ESCROW_DUPLICATE_PAYEE, ESCROW_AMOUNT_EXCEEDS_SHARE,"
            + " ESCROW_NOTHING_TO_RELEASE, ESCROW_SPLIT_MISMATCH, IDEMPOTENCY_KEY_REUSED";

    private final Escrows escrows;

    public EscrowController(Escrows escrows) {
        this.escrows = escrows;
    }

    public record PayeeInput(String address, String share) {
    }

    /** A create; see docs/escrows-api.md for each field. */
    public record CreateEscrow(String custody, String token, List<PayeeInput> payees, String deadline,
                               Long graceSeconds, Long arbitrationSeconds, String arbiter, String evaluator,
                               String termsHash, Boolean atomic, Integer maxFeeBps, String fallback) {
    }

    public record ReleaseItem(Integer index, String amount) {
    }

    /** {@code releases} omitted or empty: every remaining share (the only release of an atomic escrow). */
    public record ReleaseOrder(List<ReleaseItem> releases) {
    }

    public record SplitItem(Integer index, String amount) {
    }

    /** The arbiter's split: per payee (gross, fee taken from it) and back to the payer; must add up to what is held. */
    public record ResolveOrder(List<SplitItem> payees, String payer) {
    }

    public record DisputeOrder(String reason) {
    }

    public record NoArguments() {
    }

    public record Quote(int feeBps, String token, String amount, String maxFee, String payeesReceiveAtLeast,
                        String arbiter, long defaultGraceSeconds, long defaultArbitrationSeconds, int maxPayees,
                        List<String> custodies) {
    }

    public record Page(List<EscrowView> items, String nextCursor) {
    }

    @GetMapping("/quote")
    @Operation(summary = "The platform fee a new escrow would have (bps, taken from payees on release) and the defaults")
    public Quote quote(@RequestParam(required = false) String token, @RequestParam(required = false) String amount) {
        Principals.current();
        Inputs inputs = Inputs.check();
        Address tokenAddress = token == null ? null : inputs.address("token", token);
        BigInteger value = amount == null ? null : inputs.amount("amount", amount);
        inputs.orThrow();
        BigInteger fee = value == null ? null : EscrowRules.fee(value, escrows.feeBps());
        EscrowSettings settings = escrows.settings();
        return new Quote(escrows.feeBps(), tokenAddress == null ? null : tokenAddress.checksummed(),
                value == null ? null : value.toString(), fee == null ? null : fee.toString(),
                fee == null ? null : value.subtract(fee).toString(),
                escrows.platformArbiter().map(Address::checksummed).orElse(null),
                settings.defaultGrace().toSeconds(), settings.defaultArbitration().toSeconds(), EscrowSettings.MAX_PAYEES,
                List.of("ledger"));
    }

    @PostMapping
    @Operation(summary = "Creates an escrow and moves the sum of the shares from the caller's account into it")
    @ApiResponse(responseCode = "201", description = "created and funded")
    @ApiResponse(responseCode = "422", description = "CUSTODY_NOT_SUPPORTED, ESCROW_FEE_ABOVE_MAX, ESCROW_DEADLINE_PASSED,"
            + " ESCROW_DEADLINE_TOO_FAR, ESCROW_INVALID_ARBITER, ESCROW_ID_CONFLICT, INSUFFICIENT_FUNDS, UNKNOWN_TOKEN,"
            + " IDEMPOTENCY_KEY_REUSED")
    public ResponseEntity<EscrowView> create(
            @Parameter(description = "IETF Idempotency-Key; the escrow id derives from it") @RequestHeader("Idempotency-Key")
            String idempotencyKey, @RequestBody CreateEscrow order) {
        Address payer = Principals.current();
        Escrows.Terms terms = parse(payer, order);
        Escrows.Result result = escrows.create(payer, idempotencyKey, terms);
        return ResponseEntity.status(HttpStatus.CREATED).body(view(result, payer));
    }

    @GetMapping
    @Operation(summary = "The caller's escrows, newest first; filter by state and by the caller's role; keyset pages")
    public Page list(@RequestParam(required = false) String state, @RequestParam(required = false) String role,
                     @RequestParam(required = false) String cursor, @RequestParam(required = false) Integer limit) {
        Address me = Principals.current();
        EscrowState stateFilter = parseEnum(EscrowState.class, "state", state);
        EscrowRole roleFilter = parseEnum(EscrowRole.class, "role", role);
        long before = 0;
        if (cursor != null) {
            try {
                before = Long.parseLong(cursor);
            } catch (NumberFormatException e) {
                before = -1;
            }
            if (before <= 0) {
                throw ApiException.invalidField("cursor", "INVALID_CURSOR", "a cursor from an earlier page");
            }
        }
        int size = limit == null ? 50 : limit;
        if (size < 1 || size > MAX_PAGE) {
            throw ApiException.invalidField("limit", "OUT_OF_RANGE", "1 to " + MAX_PAGE);
        }
        List<EscrowStore.Listed> rows = escrows.list(me, roleFilter, stateFilter, before, size);
        String next = rows.size() == size ? Long.toString(rows.getLast().position()) : null;
        return new Page(rows.stream().map(l -> EscrowView.of(l.escrow(), me, null)).toList(), next);
    }

    @GetMapping("/{id}")
    @Operation(summary = "An escrow the caller is a party of, with its full history")
    public EscrowView get(@PathVariable String id) {
        Address me = Principals.current();
        Escrow escrow = (ESCROW_ID.matcher(id).matches() ? escrows.visible(id, me) : java.util.Optional.<Escrow>empty())
                .orElseThrow(() -> ApiException.notFound("escrow"));
        return EscrowView.of(escrow, me, escrows.history(id));
    }

    @PostMapping("/{id}/accept")
    @Operation(summary = "A payee accepts the terms (all its shares); the last acceptance makes the escrow FUNDED")
    @ApiResponse(responseCode = "200", description = OK)
    @ApiResponse(responseCode = "403", description = FORBIDDEN)
    @ApiResponse(responseCode = "404", description = NOT_FOUND)
    @ApiResponse(responseCode = "409", description = CONFLICT)
    @ApiResponse(responseCode = "422", description = UNPROCESSABLE)
    public EscrowView accept(@PathVariable String id, @RequestHeader("Idempotency-Key") String key,
                             @RequestBody(required = false) NoArguments body) {
        Address me = Principals.current();
        return view(escrows.accept(checkId(id), me), me);
    }

    @PostMapping("/{id}/cancel")
    @Operation(summary = "The payer cancels an escrow no payee accepted: everything back (REJECTED)")
    @ApiResponse(responseCode = "200", description = OK)
    @ApiResponse(responseCode = "403", description = FORBIDDEN)
    @ApiResponse(responseCode = "404", description = NOT_FOUND)
    @ApiResponse(responseCode = "409", description = CONFLICT)
    @ApiResponse(responseCode = "422", description = UNPROCESSABLE)
    public EscrowView cancel(@PathVariable String id, @RequestHeader("Idempotency-Key") String key,
                             @RequestBody(required = false) NoArguments body) {
        Address me = Principals.current();
        return view(escrows.cancel(checkId(id), me), me);
    }

    @PostMapping("/{id}/release")
    @Operation(summary = "The payer or the evaluator releases shares, in full or in part (fee taken on release)")
    @ApiResponse(responseCode = "200", description = OK)
    @ApiResponse(responseCode = "403", description = FORBIDDEN)
    @ApiResponse(responseCode = "404", description = NOT_FOUND)
    @ApiResponse(responseCode = "409", description = CONFLICT)
    @ApiResponse(responseCode = "422", description = UNPROCESSABLE)
    public EscrowView release(@PathVariable String id, @RequestHeader("Idempotency-Key") String key,
                              @RequestBody(required = false) ReleaseOrder body) {
        Address me = Principals.current();
        List<EscrowRules.Release> releases = new ArrayList<>();
        if (body != null && body.releases() != null) {
            Inputs inputs = Inputs.check();
            for (int i = 0; i < body.releases().size(); i++) {
                ReleaseItem item = body.releases().get(i);
                String field = "releases[" + i + "].";
                if (item == null || item.index() == null) {
                    inputs.error(field + "index", "REQUIRED", "required");
                    continue;
                }
                BigInteger amount = item.amount() == null ? null : inputs.amount(field + "amount", item.amount());
                releases.add(new EscrowRules.Release(item.index(), amount));
            }
            inputs.orThrow();
        }
        return view(escrows.release(checkId(id), me, releases), me);
    }

    @PostMapping("/{id}/refund")
    @Operation(summary = "Everything held back to the payer after the deadline: the payer at once, anyone after the grace period")
    @ApiResponse(responseCode = "200", description = OK)
    @ApiResponse(responseCode = "403", description = FORBIDDEN)
    @ApiResponse(responseCode = "404", description = NOT_FOUND)
    @ApiResponse(responseCode = "409", description = CONFLICT)
    @ApiResponse(responseCode = "422", description = UNPROCESSABLE)
    public EscrowView refund(@PathVariable String id, @RequestHeader("Idempotency-Key") String key,
                             @RequestBody(required = false) NoArguments body) {
        Address me = Principals.current();
        return view(escrows.refund(checkId(id), me), me);
    }

    @PostMapping("/{id}/dispute")
    @Operation(summary = "The payer or a payee disputes a FUNDED escrow, until the end of the grace period")
    @ApiResponse(responseCode = "200", description = OK)
    @ApiResponse(responseCode = "403", description = FORBIDDEN)
    @ApiResponse(responseCode = "404", description = NOT_FOUND)
    @ApiResponse(responseCode = "409", description = CONFLICT)
    @ApiResponse(responseCode = "422", description = UNPROCESSABLE)
    public EscrowView dispute(@PathVariable String id, @RequestHeader("Idempotency-Key") String key,
                              @RequestBody(required = false) DisputeOrder body) {
        Address me = Principals.current();
        String reason = body == null ? null : body.reason();
        if (reason != null && (reason.isBlank() || !TransferRequest.isValidReference(reason))) {
            throw ApiException.invalidField("reason", "INVALID_REFERENCE", "1-128 characters, no control characters");
        }
        return view(escrows.dispute(checkId(id), me, reason), me);
    }

    @PostMapping("/{id}/resolve")
    @Operation(summary = "The arbiter splits a disputed escrow between payees and payer, until the arbitration deadline")
    @ApiResponse(responseCode = "200", description = OK)
    @ApiResponse(responseCode = "403", description = FORBIDDEN)
    @ApiResponse(responseCode = "404", description = NOT_FOUND)
    @ApiResponse(responseCode = "409", description = CONFLICT)
    @ApiResponse(responseCode = "422", description = UNPROCESSABLE)
    public EscrowView resolve(@PathVariable String id, @RequestHeader("Idempotency-Key") String key,
                              @RequestBody ResolveOrder body) {
        Address me = Principals.current();
        Inputs inputs = Inputs.check();
        Map<Integer, BigInteger> payees = new LinkedHashMap<>();
        if (body.payees() != null) {
            for (int i = 0; i < body.payees().size(); i++) {
                SplitItem item = body.payees().get(i);
                String field = "payees[" + i + "].";
                if (item == null || item.index() == null) {
                    inputs.error(field + "index", "REQUIRED", "required");
                    continue;
                }
                BigInteger amount = nonNegative(inputs, field + "amount", item.amount());
                if (amount != null && payees.put(item.index(), amount) != null) {
                    inputs.error(field + "index", "DUPLICATE", "each payee index at most once");
                }
            }
        }
        BigInteger payer = body.payer() == null ? BigInteger.ZERO : nonNegative(inputs, "payer", body.payer());
        inputs.orThrow();
        return view(escrows.resolve(checkId(id), me, payees, payer), me);
    }

    @PostMapping("/{id}/fallback")
    @Operation(summary = "Anyone applies the terms' fallback to a dispute past its arbitration deadline")
    @ApiResponse(responseCode = "200", description = OK)
    @ApiResponse(responseCode = "403", description = FORBIDDEN)
    @ApiResponse(responseCode = "404", description = NOT_FOUND)
    @ApiResponse(responseCode = "409", description = CONFLICT)
    @ApiResponse(responseCode = "422", description = UNPROCESSABLE)
    public EscrowView fallback(@PathVariable String id, @RequestHeader("Idempotency-Key") String key,
                               @RequestBody(required = false) NoArguments body) {
        Address me = Principals.current();
        return view(escrows.fallback(checkId(id), me), me);
    }

    // ------------------------------------------------------------------ parsing

    private static String checkId(String id) {
        if (!ESCROW_ID.matcher(id).matches()) {
            throw ApiException.notFound("escrow");
        }
        return id;
    }

    private EscrowView view(Escrows.Result result, Address me) {
        if (!result.ok()) {
            if (result.status() == 404) {
                throw ApiException.notFound("escrow");
            }
            throw new ApiException(HttpStatus.valueOf(result.status()), result.code(), result.message());
        }
        return EscrowView.of(result.escrow(), me, escrows.history(result.escrow().id()));
    }

    private Escrows.Terms parse(Address payer, CreateEscrow order) {
        if (order.custody() != null && order.custody().equalsIgnoreCase("chain")) {
            throw new ApiException(HttpStatus.UNPROCESSABLE_CONTENT, "CUSTODY_NOT_SUPPORTED",
                    "custody \"chain\" (a TaskEscrow funded by the payer) is not offered yet; use \"ledger\"");
        }
        Inputs inputs = Inputs.check();
        if (order.custody() != null && !order.custody().equalsIgnoreCase("ledger")) {
            inputs.error("custody", "INVALID_CUSTODY", "\"ledger\" (default) or \"chain\"");
        }
        Address token = inputs.address("token", order.token());
        List<Address> payees = new ArrayList<>();
        List<BigInteger> shares = new ArrayList<>();
        if (order.payees() == null || order.payees().isEmpty() || order.payees().size() > EscrowSettings.MAX_PAYEES) {
            inputs.error("payees", "OUT_OF_RANGE", "1 to " + EscrowSettings.MAX_PAYEES + " payees");
        } else {
            for (int i = 0; i < order.payees().size(); i++) {
                PayeeInput payee = order.payees().get(i);
                String field = "payees[" + i + "].";
                if (payee == null) {
                    inputs.error(field + "address", "REQUIRED", "required");
                    continue;
                }
                Address address = inputs.address(field + "address", payee.address());
                BigInteger share = inputs.amount(field + "share", payee.share());
                if (payer.equals(address)) {
                    inputs.error(field + "address", "PAYEE_IS_PAYER", "the payer cannot be a payee");
                }
                payees.add(address);
                shares.add(share);
            }
        }
        Instant deadline = null;
        if (order.deadline() == null) {
            inputs.error("deadline", "REQUIRED", "required (RFC 3339)");
        } else {
            try {
                deadline = OffsetDateTime.parse(order.deadline()).toInstant().truncatedTo(ChronoUnit.SECONDS);
            } catch (DateTimeParseException e) {
                inputs.error("deadline", "INVALID_TIME", "an RFC 3339 time, e.g. 2026-12-24T12:00:00Z");
            }
        }
        EscrowSettings settings = escrows.settings();
        long grace = period(inputs, "graceSeconds", order.graceSeconds(), settings.defaultGrace().toSeconds(), 0);
        long arbitration = period(inputs, "arbitrationSeconds", order.arbitrationSeconds(),
                settings.defaultArbitration().toSeconds(), 1);
        Address arbiter = order.arbiter() != null ? inputs.address("arbiter", order.arbiter())
                : escrows.platformArbiter().orElseGet(() -> inputs.error("arbiter", "REQUIRED",
                        "required: the service has no platform arbiter configured"));
        Address evaluator = order.evaluator() == null ? null : inputs.address("evaluator", order.evaluator());
        String termsHash = ZERO_HASH;
        if (order.termsHash() != null) {
            if (HASH.matcher(order.termsHash()).matches()) {
                termsHash = order.termsHash().toLowerCase(Locale.ROOT);
            } else {
                inputs.error("termsHash", "INVALID_HASH", "0x and 64 hex digits");
            }
        }
        if (order.maxFeeBps() == null) {
            inputs.error("maxFeeBps", "REQUIRED", "the highest platform fee you accept, basis points (see /escrows/quote)");
        } else if (order.maxFeeBps() < 0 || order.maxFeeBps() > EscrowRules.BPS) {
            inputs.error("maxFeeBps", "OUT_OF_RANGE", "0 to " + EscrowRules.BPS);
        }
        FallbackRule fallback = order.fallback() == null ? FallbackRule.REFUND_PAYER
                : parseEnumInto(inputs, FallbackRule.class, "fallback", order.fallback());
        inputs.orThrow();
        BigInteger sum = shares.stream().reduce(BigInteger.ZERO, BigInteger::add);
        if (sum.compareTo(MAX_UINT256) > 0) {
            throw ApiException.invalidField("payees", "INVALID_AMOUNT", "the shares add up to more than 2^256 - 1");
        }
        return new Escrows.Terms(token, payees, shares, deadline, grace, arbitration, arbiter, evaluator, termsHash,
                Boolean.TRUE.equals(order.atomic()), order.maxFeeBps(), fallback);
    }

    private static long period(Inputs inputs, String field, Long value, long fallback, long min) {
        if (value == null) {
            return fallback;
        }
        if (value < min || value > EscrowSettings.MAX_PERIOD.toSeconds()) {
            inputs.error(field, "OUT_OF_RANGE", min + " to " + EscrowSettings.MAX_PERIOD.toSeconds() + " seconds");
            return fallback;
        }
        return value;
    }

    private static BigInteger nonNegative(Inputs inputs, String field, String value) {
        if ("0".equals(value)) {
            return BigInteger.ZERO;
        }
        return inputs.amount(field, value);
    }

    private static <E extends Enum<E>> E parseEnum(Class<E> type, String field, String value) {
        if (value == null) {
            return null;
        }
        Inputs inputs = Inputs.check();
        E parsed = parseEnumInto(inputs, type, field, value);
        inputs.orThrow();
        return parsed;
    }

    private static <E extends Enum<E>> E parseEnumInto(Inputs inputs, Class<E> type, String field, String value) {
        for (E constant : type.getEnumConstants()) {
            if (constant.name().equalsIgnoreCase(value)) {
                return constant;
            }
        }
        return inputs.error(field, "INVALID_VALUE", "one of " + Arrays.toString(type.getEnumConstants()));
    }
}
