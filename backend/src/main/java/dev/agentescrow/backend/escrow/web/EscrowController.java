package dev.agentescrow.backend.escrow.web;

import dev.agentescrow.backend.common.web.ApiException;
import dev.agentescrow.backend.common.web.Inputs;
import dev.agentescrow.backend.common.web.Principals;
import dev.agentescrow.backend.auth.Roles;
import dev.agentescrow.backend.escrow.ChainEscrowStore;
import dev.agentescrow.backend.fee.FeeRates;
import dev.agentescrow.backend.fee.FeeSplit;
import dev.agentescrow.backend.escrow.ChainEscrows;
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
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.function.Supplier;
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
 * Escrows in two custodies: ledger escrows (create moves the payer's funds at once into the
 * escrow's ledger account, actions pay through the ledger) and chain escrows (a TaskEscrow the payer
 * funds itself: create and actions answer the calls to sign and send, the state follows the
 * contract's confirmed events), the caller's escrows and their history. Every POST needs an
 * Idempotency-Key (a replay answers the first response).
 */
@RestController
@RequestMapping("/api/v1/escrows")
@Tag(name = "escrows", description = "Escrows held in the ledger or in the TaskEscrow contract: one model, its terms and states")
public class EscrowController {
    private static final Pattern HASH = Pattern.compile("0x[0-9a-fA-F]{64}");
    private static final Pattern ESCROW_ID = Pattern.compile("esc_[0-9a-f]{32}");
    private static final String ZERO_HASH = "0x" + "0".repeat(64);
    private static final BigInteger MAX_UINT256 = BigInteger.ONE.shiftLeft(256).subtract(BigInteger.ONE);
    private static final int MAX_PAGE = 100;
    static final String OK = "the escrow after the action, with its history; for a chain escrow the escrow as its"
            + " confirmed events left it, with chain.calls to sign and send (chain.typedData to sign for an acceptance)"
            + " or chain.sent, the service's own transaction";
    static final String CONFLICT = "ESCROW_INVALID_STATE, ESCROW_ALREADY_ACCEPTED, ESCROW_ACTION_CONFLICT,"
            + " IDEMPOTENCY_REQUEST_IN_FLIGHT";
    static final String FORBIDDEN = "ESCROW_ROLE_REQUIRED (a party without the role)";
    static final String NOT_FOUND = "NOT_FOUND (not a party of the escrow)";
    static final String UNPROCESSABLE = "ESCROW_DEADLINE_PASSED, ESCROW_PAYEE_ACCEPTED, ESCROW_DEADLINE_NOT_REACHED,"
            + " ESCROW_IN_GRACE_PERIOD, ESCROW_DISPUTE_CLOSED, ESCROW_ARBITRATION_CLOSED, ESCROW_ARBITRATION_OPEN,"
            + " ESCROW_ATOMIC, ESCROW_UNKNOWN_PAYEE, ESCROW_DUPLICATE_PAYEE, ESCROW_AMOUNT_EXCEEDS_SHARE,"
            + " ESCROW_NOTHING_TO_RELEASE, ESCROW_SPLIT_MISMATCH, IDEMPOTENCY_KEY_REUSED; chain escrows also"
            + " ESCROW_INVALID_SIGNATURE, ESCROW_RELAY_UNAVAILABLE, ESCROW_CHAIN_REFUSED, ESCROW_SIGNATURE_NOT_APPLICABLE";

    private static final Pattern SIGNATURE = Pattern.compile("0x[0-9a-fA-F]{130}");

    private final Escrows escrows;
    private final ChainEscrows chainEscrows;
    private final Roles roles;

    public EscrowController(Escrows escrows, ChainEscrows chainEscrows, Roles roles) {
        this.escrows = escrows;
        this.chainEscrows = chainEscrows;
        this.roles = roles;
    }

    /** A payee's acceptance; for a chain escrow optionally its EIP-712 signature (of payee {@code index}) for the service to relay. */
    public record AcceptOrder(String signature, Integer index) {
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

    /**
     * What a new ledger escrow would pay, shown before the payer commits: the platform fee
     * ({@code feeBps}), the protocol fee ({@code protocolFeeBps}) and both ({@code totalFeeBps}, the
     * least {@code maxFeeBps} a create must accept); for an {@code amount}, each fee of it (each
     * floored on its own), both ({@code maxFee}) and what the payees receive at least.
     */
    public record Quote(int feeBps, int protocolFeeBps, int totalFeeBps, String token, String amount,
                        String platformFee, String protocolFee, String maxFee, String payeesReceiveAtLeast,
                        String arbiter, long defaultGraceSeconds, long defaultArbitrationSeconds, int maxPayees,
                        List<String> custodies, Integer chainFeeBps, String chainArbiter) {
    }

    public record Page(List<EscrowView> items, String nextCursor) {
    }

    @GetMapping("/quote")
    @Operation(summary = "The fees a new ledger escrow would have (platform and protocol, bps, each floored on its own and"
            + " taken from payees on release; maxFeeBps must cover both) and the defaults")
    public Quote quote(@RequestParam(required = false) String token, @RequestParam(required = false) String amount) {
        Principals.current();
        Inputs inputs = Inputs.check();
        Address tokenAddress = token == null ? null : inputs.address("token", token);
        BigInteger value = amount == null ? null : inputs.amount("amount", amount);
        inputs.orThrow();
        FeeRates rates = escrows.feeRates();
        FeeSplit split = value == null ? null : rates.split(value);
        EscrowSettings settings = escrows.settings();
        return new Quote(rates.platformBps(), rates.protocolBps(), rates.totalBps(),
                tokenAddress == null ? null : tokenAddress.checksummed(), value == null ? null : value.toString(),
                split == null ? null : split.platform().toString(), split == null ? null : split.protocol().toString(),
                split == null ? null : split.fees().toString(), split == null ? null : split.net().toString(),
                escrows.platformArbiter().map(Address::checksummed).orElse(null),
                settings.defaultGrace().toSeconds(), settings.defaultArbitration().toSeconds(), EscrowSettings.MAX_PAYEES,
                chainEscrows.offered() ? List.of("ledger", "chain") : List.of("ledger"),
                chainEscrows.gateway().map(g -> g.fee().value()).orElse(null),
                chainEscrows.serviceArbiter().map(Address::checksummed).orElse(null));
    }

    @PostMapping
    @Operation(summary = "Creates an escrow: ledger custody moves the sum of the shares from the caller's account into"
            + " it; chain custody stores the terms (PENDING_FUNDING) and answers the permit to sign and the TaskEscrow"
            + " call to send (chain.funding); the escrow opens when the contract's Created event is confirmed")
    @ApiResponse(responseCode = "201", description = "created and funded (ledger), or prepared (chain)")
    @ApiResponse(responseCode = "422", description = "CUSTODY_NOT_SUPPORTED, ESCROW_FEE_ABOVE_MAX, ESCROW_DEADLINE_PASSED,"
            + " ESCROW_DEADLINE_TOO_FAR, ESCROW_INVALID_ARBITER, ESCROW_ID_CONFLICT, INSUFFICIENT_FUNDS, UNKNOWN_TOKEN,"
            + " IDEMPOTENCY_KEY_REUSED; chain: ESCROW_PERIOD_FIXED, ESCROW_DUPLICATE_PAYEE")
    public ResponseEntity<EscrowView> create(
            @Parameter(description = "IETF Idempotency-Key; the escrow id derives from it") @RequestHeader("Idempotency-Key")
            String idempotencyKey, @RequestBody CreateEscrow order) {
        Address payer = Principals.current();
        Escrows.Terms terms = parse(payer, order);
        if (order.custody() != null && order.custody().equalsIgnoreCase("chain")) {
            Escrows.Result result = chainEscrows.create(payer, idempotencyKey, terms);
            refuse(result);
            Escrow escrow = result.escrow();
            ChainEscrowStore.ChainInfo info = chainEscrows.chainInfo(List.of(escrow.id())).get(escrow.id());
            ChainEscrows.Funding funding = escrow.state() == EscrowState.PENDING_FUNDING
                    ? chainEscrows.funding(escrow, info, null).orElse(null) : null;
            return ResponseEntity.status(HttpStatus.CREATED).body(chainView(escrow, payer, info, funding, null));
        }
        Escrows.Result result = escrows.create(payer, idempotencyKey, terms);
        return ResponseEntity.status(HttpStatus.CREATED).body(view(result, payer));
    }

    @GetMapping("/{id}/funding")
    @Operation(summary = "The payer's funding of a PENDING_FUNDING chain escrow: the EIP-2612 permit to sign and the"
            + " TaskEscrow calls; with permitSignature (the permit's 65-byte signature) the createWithPermit data is complete")
    @ApiResponse(responseCode = "200", description = "the escrow with chain.funding")
    @ApiResponse(responseCode = "403", description = FORBIDDEN)
    @ApiResponse(responseCode = "404", description = "NOT_FOUND (not a party, or not a chain escrow)")
    @ApiResponse(responseCode = "409", description = "ESCROW_INVALID_STATE (funded already)")
    public EscrowView funding(@PathVariable String id, @RequestParam(required = false) String permitSignature) {
        Address me = Principals.current();
        Escrow escrow = escrows.visible(checkId(id), me).orElseThrow(() -> ApiException.notFound("escrow"));
        ChainEscrowStore.ChainInfo info = chainEscrows.chainInfo(List.of(escrow.id())).get(escrow.id());
        if (info == null) {
            throw ApiException.notFound("escrow");
        }
        byte[] signature = permitSignature == null ? null : signature("permitSignature", permitSignature);
        if (!escrow.payer().equals(me)) {
            throw new ApiException(HttpStatus.FORBIDDEN, EscrowRules.Refusal.ROLE_REQUIRED.code(),
                    "only the payer funds the escrow");
        }
        if (escrow.state() != EscrowState.PENDING_FUNDING) {
            throw new ApiException(HttpStatus.CONFLICT, EscrowRules.Refusal.INVALID_STATE.code(),
                    "the escrow is funded already");
        }
        return chainView(escrow, me, info, chainEscrows.funding(escrow, info, signature).orElse(null), null);
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
        Map<String, ChainEscrowStore.ChainInfo> chain = chainEscrows.chainInfo(
                rows.stream().map(l -> l.escrow().id()).toList());
        return new Page(rows.stream().map(l -> {
            ChainEscrowStore.ChainInfo info = chain.get(l.escrow().id());
            return info == null ? EscrowView.of(l.escrow(), me, null)
                    : EscrowView.of(l.escrow(), me, null, chainPart(info, null, null));
        }).toList(), next);
    }

    @GetMapping("/{id}")
    @Operation(summary = "An escrow the caller is a party of, with its full history")
    public EscrowView get(@PathVariable String id) {
        Address me = Principals.current();
        Escrow escrow = (ESCROW_ID.matcher(id).matches() ? escrows.visible(id, me) : java.util.Optional.<Escrow>empty())
                .orElseThrow(() -> ApiException.notFound("escrow"));
        ChainEscrowStore.ChainInfo info = chainEscrows.chainInfo(List.of(id)).get(id);
        return info == null ? EscrowView.of(escrow, me, escrows.history(id)) : chainView(escrow, me, info, null, null);
    }

    @PostMapping("/{id}/accept")
    @Operation(summary = "A payee accepts the terms (all its shares); the last acceptance makes the escrow FUNDED")
    @EscrowActionResponses
    public EscrowView accept(@PathVariable String id, @RequestHeader("Idempotency-Key") String key,
                             @RequestBody(required = false) AcceptOrder body) {
        Address me = Principals.current();
        byte[] signature = body == null || body.signature() == null ? null : signature("signature", body.signature());
        Integer index = body == null ? null : body.index();
        return chainOr(checkId(id), me, (e, info) -> chainEscrows.accept(e, info, me, signature, index), () -> {
            if (signature != null || index != null) {
                throw new ApiException(HttpStatus.UNPROCESSABLE_CONTENT, "ESCROW_SIGNATURE_NOT_APPLICABLE",
                        "a ledger escrow is accepted by the signed-in payee alone");
            }
            return view(escrows.accept(id, me), me);
        });
    }

    @PostMapping("/{id}/cancel")
    @Operation(summary = "The payer cancels an escrow no payee accepted: everything back (REJECTED)")
    @EscrowActionResponses
    public EscrowView cancel(@PathVariable String id, @RequestHeader("Idempotency-Key") String key,
                             @RequestBody(required = false) NoArguments body) {
        Address me = Principals.current();
        return chainOr(checkId(id), me, (e, info) -> chainEscrows.cancel(e, info, me),
                () -> view(escrows.cancel(id, me), me));
    }

    @PostMapping("/{id}/release")
    @Operation(summary = "The payer or the evaluator releases shares, in full or in part (fee taken on release)")
    @EscrowActionResponses
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
        return chainOr(checkId(id), me, (e, info) -> chainEscrows.release(e, info, me, releases),
                () -> view(escrows.release(id, me, releases), me));
    }

    @PostMapping("/{id}/refund")
    @Operation(summary = "Everything held back to the payer after the deadline: the payer at once, anyone after the grace period")
    @EscrowActionResponses
    public EscrowView refund(@PathVariable String id, @RequestHeader("Idempotency-Key") String key,
                             @RequestBody(required = false) NoArguments body) {
        Address me = Principals.current();
        return chainOr(checkId(id), me, (e, info) -> chainEscrows.refund(e, info, me),
                () -> view(escrows.refund(id, me), me));
    }

    @PostMapping("/{id}/dispute")
    @Operation(summary = "The payer or a payee disputes a FUNDED escrow, until the end of the grace period")
    @EscrowActionResponses
    public EscrowView dispute(@PathVariable String id, @RequestHeader("Idempotency-Key") String key,
                              @RequestBody(required = false) DisputeOrder body) {
        Address me = Principals.current();
        String reason = body == null ? null : body.reason();
        if (reason != null && (reason.isBlank() || !TransferRequest.isValidReference(reason))) {
            throw ApiException.invalidField("reason", "INVALID_REFERENCE", "1-128 characters, no control characters");
        }
        return chainOr(checkId(id), me, (e, info) -> chainEscrows.dispute(e, info, me),
                () -> view(escrows.dispute(id, me, reason), me));
    }

    @PostMapping("/{id}/resolve")
    @Operation(summary = "The arbiter splits a disputed escrow between payees and payer, until the arbitration deadline")
    @EscrowActionResponses
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
        return chainOr(checkId(id), me, (e, info) -> chainEscrows.resolve(e, info, me, roles.isAdmin(me), payees, payer),
                () -> view(escrows.resolve(id, me, payees, payer), me));
    }

    @PostMapping("/{id}/fallback")
    @Operation(summary = "Anyone applies the terms' fallback to a dispute past its arbitration deadline")
    @EscrowActionResponses
    public EscrowView fallback(@PathVariable String id, @RequestHeader("Idempotency-Key") String key,
                               @RequestBody(required = false) NoArguments body) {
        Address me = Principals.current();
        return chainOr(checkId(id), me, (e, info) -> chainEscrows.fallback(e, info, me),
                () -> view(escrows.fallback(id, me), me));
    }

    // ------------------------------------------------------------------ parsing

    private static String checkId(String id) {
        if (!ESCROW_ID.matcher(id).matches()) {
            throw ApiException.notFound("escrow");
        }
        return id;
    }

    private EscrowView view(Escrows.Result result, Address me) {
        refuse(result);
        return EscrowView.of(result.escrow(), me, escrows.history(result.escrow().id()));
    }

    private static void refuse(Escrows.Result result) {
        if (!result.ok()) {
            if (result.status() == 404) {
                throw ApiException.notFound("escrow");
            }
            throw new ApiException(HttpStatus.valueOf(result.status()), result.code(), result.message());
        }
    }

    /** The chain action on a chain escrow (as its confirmed events left it), else the ledger action. */
    private EscrowView chainOr(String id, Address me,
                               BiFunction<Escrow, ChainEscrowStore.ChainInfo, ChainEscrows.Outcome> chainAction,
                               Supplier<EscrowView> ledgerAction) {
        ChainEscrowStore.ChainInfo info = chainEscrows.chainInfo(List.of(id)).get(id);
        if (info == null) {
            return ledgerAction.get();
        }
        Escrow escrow = escrows.find(id).orElseThrow(() -> ApiException.notFound("escrow"));
        ChainEscrows.Outcome outcome = chainAction.apply(escrow, info);
        if (!outcome.ok()) {
            refuse(outcome.refusal());
        }
        Escrow now = escrows.find(id).orElse(escrow);
        return chainView(now, me, info, null, outcome);
    }

    private EscrowView chainView(Escrow escrow, Address me, ChainEscrowStore.ChainInfo info,
                                 ChainEscrows.Funding funding, ChainEscrows.Outcome outcome) {
        return EscrowView.of(escrow, me, escrows.history(escrow.id()), chainPart(info, funding, outcome));
    }

    private EscrowView.ChainView chainPart(ChainEscrowStore.ChainInfo info, ChainEscrows.Funding funding,
                                           ChainEscrows.Outcome outcome) {
        return new EscrowView.ChainView(info.contract().checksummed(), chainEscrows.chainId(),
                info.chainEscrowId().hex(), info.taskId().hex(), info.permitDeadline(),
                funding == null ? null : EscrowView.FundingView.of(funding),
                outcome == null ? null : outcome.calls().stream().map(EscrowView.CallView::of).toList(),
                outcome == null || outcome.typedData().isEmpty() ? null : outcome.typedData(),
                outcome == null ? null : EscrowView.SentView.of(outcome.sent()));
    }

    private static byte[] signature(String field, String value) {
        if (!SIGNATURE.matcher(value).matches()) {
            throw ApiException.invalidField(field, "INVALID_SIGNATURE", "0x and 130 hex digits (r, s, v)");
        }
        return HexFormat.of().parseHex(value.substring(2));
    }

    private Escrows.Terms parse(Address payer, CreateEscrow order) {
        Inputs inputs = Inputs.check();
        if (order.custody() != null && !order.custody().equalsIgnoreCase("ledger")
                && !order.custody().equalsIgnoreCase("chain")) {
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
