package dev.agentescrow.backend.escrow;

import dev.agentescrow.backend.audit.AuditLog;
import dev.agentescrow.backend.config.ChainDeployment;
import dev.agentescrow.backend.config.OperatorKeys;
import dev.agentescrow.backend.gateway.ChainGateway;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.Bytes32;
import dev.agentescrow.chain.ChainClient;
import dev.agentescrow.chain.ContractRevertedException;
import dev.agentescrow.chain.Erc20Permit;
import dev.agentescrow.chain.escrow.BasisPoints;
import dev.agentescrow.chain.escrow.EscrowAcceptance;
import dev.agentescrow.chain.escrow.EscrowTerms;
import dev.agentescrow.chain.escrow.Payee;
import dev.agentescrow.chain.escrow.ReleaseMode;
import dev.agentescrow.chain.escrow.TaskEscrowGateway;
import dev.agentescrow.chain.escrow.TaskId;
import java.math.BigInteger;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiFunction;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;
import org.web3j.crypto.Credentials;

/**
 * Chain-custody escrows: a TaskEscrow the payer funds itself. The service never holds an agent's
 * key: a create stores the terms (PENDING_FUNDING) and answers the EIP-2612 permit to sign and the
 * {@code createWithPermit} call to send; each action answers the call(s) its caller signs and sends
 * (with the payee's EIP-712 acceptance to sign, which the service may relay). Only where the
 * service's own key holds the role does it send itself: the resolution of a dispute whose arbiter is
 * the service's arbiter key (asked for by an admin), through {@link ChainSends} (stored before sent,
 * once per escrow). The state comes from the contract's events alone ({@link ChainEscrowEvents}).
 * The rules that refuse an action are the ledger escrows' ({@link EscrowRules}), which are the
 * contract's, so a refusal has the same code in both custodies and a call is prepared only when the
 * contract would accept it now.
 */
@Component
public class ChainEscrows {
    private static final Logger log = LoggerFactory.getLogger(ChainEscrows.class);
    /** The contract's grace period and arbitration period (constants of TaskEscrow). */
    public static final Duration GRACE = Duration.ofDays(1);
    public static final Duration ARBITRATION = Duration.ofDays(7);
    private static final int SIGNATURE_LENGTH = 65;

    private final ChainClient client;
    private final Optional<TaskEscrowGateway> gateway;
    private final ChainEscrowSettings settings;
    private final EscrowSettings escrowSettings;
    private final EscrowStore store;
    private final ChainEscrowStore chain;
    private final ChainSends sends;
    private final ChainGateway chainGateway;
    private final AuditLog audit;
    private final Clock clock;
    private final TransactionTemplate tx;
    private final Optional<Credentials> arbiterKey;
    private volatile long chainId;

    public ChainEscrows(ChainClient client, ChainDeployment deployment, ChainEscrowSettings settings,
                        EscrowSettings escrowSettings, EscrowStore store, ChainEscrowStore chain, ChainSends sends,
                        ChainGateway chainGateway, AuditLog audit, Clock clock, DataSource dataSource) {
        this.client = client;
        this.gateway = settings.enabled() ? deployment.escrowContract().map(a -> new TaskEscrowGateway(client, a))
                : Optional.empty();
        this.settings = settings;
        this.escrowSettings = escrowSettings;
        this.store = store;
        this.chain = chain;
        this.sends = sends;
        this.chainGateway = chainGateway;
        this.audit = audit;
        this.clock = clock;
        this.tx = new TransactionTemplate(new DataSourceTransactionManager(dataSource));
        this.arbiterKey = OperatorKeys.load(settings.arbiterPrivateKey(), settings.arbiterKeystore(),
                settings.arbiterKeystorePassword(), "ESCROW_ARBITER");
        if (gateway.isPresent()) {
            log.info("chain escrows on TaskEscrow {}; the service's arbiter: {}", gateway.get().address(),
                    arbiterKey.map(k -> Address.of(k.getAddress()).checksummed()).orElse("none (resolutions are"
                            + " prepared for the escrow's arbiter to send)"));
        }
    }

    /** The chain's id (asked once). */
    public long chainId() {
        long known = chainId;
        if (known == 0) {
            known = client.chainId();
            chainId = known;
        }
        return known;
    }

    public boolean offered() {
        return gateway.isPresent();
    }

    public Optional<TaskEscrowGateway> gateway() {
        return gateway;
    }

    /** The address of the service's arbiter key, if configured. */
    public Optional<Address> serviceArbiter() {
        return arbiterKey.map(k -> Address.of(k.getAddress()));
    }

    /** A call to sign and send: to, ABI-encoded data, value (wei), the expected sender, and the function's name. */
    public record Call(Address to, String data, BigInteger value, Address from, String function) {
    }

    /** EIP-712 typed data to sign ({@code eth_signTypedData_v4}), in the usual JSON shape. */
    public record TypedData(Map<String, Object> domain, Map<String, List<Map<String, String>>> types,
                            String primaryType, Map<String, Object> message) {
    }

    /**
     * What a chain action answers: the escrow as the service knows it now, the calls to send, the
     * typed data to sign, and the service's own transaction if it sent one; or a refusal.
     */
    public record Outcome(Escrow escrow, List<Call> calls, List<TypedData> typedData, ChainSends.Sent sent,
                          Escrows.Result refusal) {
        static Outcome refused(Escrows.Result refusal) {
            return new Outcome(null, List.of(), List.of(), null, refusal);
        }

        static Outcome refused(int status, String code, String message) {
            return refused(Escrows.Result.refused(status, code, message));
        }

        public boolean ok() {
            return refusal == null;
        }
    }

    /** The funding of a pending chain escrow: the permit to sign and the call (complete once the permit is signed). */
    public record Funding(TypedData permit, Call createWithPermit, List<String> createWithPermitArgs, Call create) {
    }

    // ------------------------------------------------------------------ create

    /**
     * Stores a chain escrow's terms as PENDING_FUNDING under the id derived from (payer,
     * Idempotency-Key): a retried create finds it (other terms: {@code ESCROW_ID_CONFLICT}).
     */
    public Escrows.Result create(Address payer, String idempotencyKey, Escrows.Terms terms) {
        if (gateway.isEmpty()) {
            return Escrows.Result.refused(422, "CUSTODY_NOT_SUPPORTED", "chain custody is not offered by this"
                    + " service (no TaskEscrow in the deployment, or agentescrow.escrow.chain.enabled is false)");
        }
        if (terms.graceSeconds() != GRACE.toSeconds() || terms.arbitrationSeconds() != ARBITRATION.toSeconds()) {
            return Escrows.Result.refused(422, "ESCROW_PERIOD_FIXED", "on chain the grace period is "
                    + GRACE.toSeconds() + " s and the arbitration period " + ARBITRATION.toSeconds()
                    + " s (the contract's constants)");
        }
        if (terms.payees().stream().distinct().count() != terms.payees().size()) {
            return Escrows.Result.refused(422, "ESCROW_DUPLICATE_PAYEE", "on chain each payee address at most once");
        }
        Instant now = clock.instant();
        int feeBps = gateway.get().fee().value();
        if (feeBps > terms.maxFeeBps()) {
            return Escrows.Result.refused(422, "ESCROW_FEE_ABOVE_MAX", "the contract's fee is " + feeBps
                    + " bps, above the maximum of " + terms.maxFeeBps() + " bps");
        }
        if (!terms.deadline().isAfter(now)) {
            return Escrows.Result.refused(422, "ESCROW_DEADLINE_PASSED", "the deadline must be in the future");
        }
        if (terms.deadline().isAfter(now.plus(escrowSettings.maxDuration()))) {
            return Escrows.Result.refused(422, "ESCROW_DEADLINE_TOO_FAR", "the deadline may be at most "
                    + escrowSettings.maxDuration().toDays() + " days ahead");
        }
        if (terms.arbiter().equals(payer) || terms.payees().contains(terms.arbiter())) {
            return Escrows.Result.refused(422, "ESCROW_INVALID_ARBITER", "the arbiter is neither the payer nor a payee");
        }
        String id = EscrowIds.escrowId(payer, idempotencyKey);
        Bytes32 taskId = new Bytes32(EscrowIds.taskId(id));
        List<Escrow.Payee> payees = new ArrayList<>();
        for (int i = 0; i < terms.payees().size(); i++) {
            payees.add(new Escrow.Payee(i, terms.payees().get(i), terms.shares().get(i), BigInteger.ZERO, null));
        }
        Address evaluator = payer.equals(terms.evaluator()) ? null : terms.evaluator();
        Escrow escrow = new Escrow(id, EscrowState.PENDING_FUNDING, payer, terms.token(), terms.arbiter(), evaluator,
                terms.deadline(), terms.graceSeconds(), terms.arbitrationSeconds(), null, feeBps, terms.maxFeeBps(),
                terms.fallback(), terms.atomic(), terms.termsHash(), terms.amount(), BigInteger.ZERO, BigInteger.ZERO, 1,
                now, now, payees);
        ChainEscrowStore.ChainInfo info = new ChainEscrowStore.ChainInfo(id, gateway.get().address(),
                TaskEscrowGateway.escrowId(payer, TaskId.of(taskId)), taskId, now.plus(settings.permitValidity()));
        return tx.execute(status -> {
            if (!store.insertChain(escrow)) {
                Escrow existing = store.find(id).orElseThrow();
                boolean same = chain.find(id).isPresent() && existing.token().equals(escrow.token())
                        && existing.amount().equals(escrow.amount()) && existing.deadline().equals(escrow.deadline())
                        && existing.arbiter().equals(escrow.arbiter()) && existing.termsHash().equals(escrow.termsHash())
                        && existing.payees().stream().map(p -> p.account().hex() + ":" + p.share()).toList().equals(
                                escrow.payees().stream().map(p -> p.account().hex() + ":" + p.share()).toList());
                return same ? Escrows.Result.ok(existing) : Escrows.Result.refused(422, "ESCROW_ID_CONFLICT",
                        "an escrow with other terms was created under this Idempotency-Key");
            }
            chain.insert(info);
            audit.record(payer.hex(), "ESCROW_CHAIN_PREPARED", "escrow", id, terms.token().hex(), terms.amount());
            return Escrows.Result.ok(escrow);
        });
    }

    /** The chain part of chain escrows among {@code ids}. */
    public Map<String, ChainEscrowStore.ChainInfo> chainInfo(List<String> ids) {
        return chain.load(ids);
    }

    /**
     * The funding of the caller's pending chain escrow: the permit to sign (the token's current
     * permit nonce) and the calls; with {@code permitSignature} the {@code createWithPermit} call's
     * data is complete.
     */
    public Optional<Funding> funding(Escrow e, ChainEscrowStore.ChainInfo info, byte[] permitSignature) {
        TaskEscrowGateway escrow = gateway.orElseThrow();
        EscrowTerms terms = terms(e);
        TaskId taskId = TaskId.of(info.taskId());
        Map<String, Object> message = new LinkedHashMap<>();
        message.put("owner", e.payer().checksummed());
        message.put("spender", escrow.address().checksummed());
        message.put("value", e.amount().toString());
        message.put("nonce", chainGateway.permitNonce(e.token(), e.payer()).toString());
        message.put("deadline", Long.toString(info.permitDeadline().getEpochSecond()));
        ChainGateway.PermitDomain domain = chainGateway.permitDomain(e.token());
        TypedData permit = new TypedData(domain.domain(), Map.of("EIP712Domain", domain.type(), "Permit", List.of(
                field("owner", "address"), field("spender", "address"), field("value", "uint256"),
                field("nonce", "uint256"), field("deadline", "uint256"))), "Permit", message);
        Call withPermit = null;
        if (permitSignature != null) {
            Erc20Permit signed = new Erc20Permit(Amount.of(e.amount()), info.permitDeadline(), v(permitSignature),
                    new Bytes32(java.util.Arrays.copyOfRange(permitSignature, 0, 32)),
                    new Bytes32(java.util.Arrays.copyOfRange(permitSignature, 32, 64)));
            withPermit = new Call(escrow.address(), escrow.encodeCreateWithPermit(taskId, terms, signed), BigInteger.ZERO,
                    e.payer(), "createWithPermit");
        }
        Call create = new Call(escrow.address(), escrow.encodeCreate(taskId, terms), BigInteger.ZERO, e.payer(),
                "create");
        return Optional.of(new Funding(permit, withPermit, List.of(info.taskId().hex(), "<terms as in create>",
                Long.toString(info.permitDeadline().getEpochSecond()), "<v>", "<r>", "<s>"), create));
    }

    // ------------------------------------------------------------------ actions

    /** A payee's acceptance: its EIP-712 acceptances and accept calls; with {@code signature}, relayed by the service. */
    public Outcome accept(Escrow e, ChainEscrowStore.ChainInfo info, Address caller, byte[] signature, Integer index) {
        return decide(e, caller, (x, now) -> EscrowRules.accept(x, caller, now), plan -> {
            List<Call> calls = new ArrayList<>();
            List<TypedData> typed = new ArrayList<>();
            for (int i : plan.accepting()) {
                calls.add(call(info, gateway.get().encodeAccept(info.chainEscrowId(), i), caller, "accept"));
                typed.add(acceptance(e, info, i));
            }
            if (signature == null) {
                return new Outcome(e, calls, typed, null, null);
            }
            int which = index != null ? index : plan.accepting().iterator().next();
            if (!plan.accepting().contains(which)) {
                return Outcome.refused(Escrows.Result.refused(EscrowRules.Refusal.UNKNOWN_PAYEE));
            }
            if (arbiterKey.isEmpty()) {
                return Outcome.refused(422, "ESCROW_RELAY_UNAVAILABLE", "the service has no key to relay with: send"
                        + " acceptWithSignature or accept yourself");
            }
            return send(e, "accept:" + e.id() + ":" + which, arbiterKey.get(),
                    gateway.get().encodeAcceptWithSignature(info.chainEscrowId(), which, signature), calls, typed);
        });
    }

    public Outcome cancel(Escrow e, ChainEscrowStore.ChainInfo info, Address caller) {
        return decide(e, caller, (x, now) -> EscrowRules.cancel(x, caller), plan -> new Outcome(e,
                List.of(call(info, gateway.get().encodeCancel(info.chainEscrowId()), caller, "cancel")), List.of(), null,
                null));
    }

    public Outcome release(Escrow e, ChainEscrowStore.ChainInfo info, Address caller, List<EscrowRules.Release> releases) {
        return decide(e, caller, (x, now) -> EscrowRules.release(x, caller, releases), plan -> {
            boolean everything = plan.to() == EscrowState.COMPLETED && releases.isEmpty() || e.atomic();
            List<Call> calls = new ArrayList<>();
            if (everything) {
                calls.add(call(info, gateway.get().encodeReleaseAll(info.chainEscrowId()), caller, "releaseAll"));
            } else {
                plan.releasedGross().forEach((i, amount) -> calls.add(call(info, gateway.get().encodeRelease(
                        info.chainEscrowId(), i, Amount.of(amount)), caller, "release")));
            }
            return new Outcome(e, calls, List.of(), null, null);
        });
    }

    public Outcome refund(Escrow e, ChainEscrowStore.ChainInfo info, Address caller) {
        return decide(e, caller, (x, now) -> EscrowRules.refund(x, caller, now), plan -> new Outcome(e,
                List.of(call(info, gateway.get().encodeRefund(info.chainEscrowId()), caller, "refund")), List.of(), null,
                null));
    }

    public Outcome dispute(Escrow e, ChainEscrowStore.ChainInfo info, Address caller) {
        return decide(e, caller, (x, now) -> EscrowRules.dispute(x, caller, now), plan -> new Outcome(e,
                List.of(call(info, gateway.get().encodeDispute(info.chainEscrowId()), caller, "dispute")), List.of(),
                null, null));
    }

    public Outcome fallback(Escrow e, ChainEscrowStore.ChainInfo info, Address caller) {
        return decide(e, caller, (x, now) -> EscrowRules.fallback(x, now), plan -> new Outcome(e,
                List.of(call(info, gateway.get().encodeApplyFallback(info.chainEscrowId()), caller, "applyFallback")),
                List.of(), null, null));
    }

    /**
     * The arbiter's split. If the escrow's arbiter is the service's arbiter key, {@code admin} callers
     * ask the service to send it (once per escrow: a retry answers the first transaction, another split
     * is {@code ESCROW_ACTION_CONFLICT}); else the arbiter gets the call to send.
     */
    public Outcome resolve(Escrow e, ChainEscrowStore.ChainInfo info, Address caller, boolean admin,
                           Map<Integer, BigInteger> payees, BigInteger payer) {
        boolean serviceSends = serviceArbiter().filter(e.arbiter()::equals).isPresent();
        if (serviceSends && !admin) {
            return e.rolesOf(caller).isEmpty() ? Outcome.refused(404, "NOT_FOUND", "escrow not found")
                    : Outcome.refused(Escrows.Result.refused(EscrowRules.Refusal.ROLE_REQUIRED));
        }
        Address as = serviceSends ? e.arbiter() : caller;
        return decide(e, serviceSends ? e.arbiter() : caller, (x, now) -> EscrowRules.resolve(x, as, now, payees, payer),
                plan -> {
                    List<Amount> amounts = new ArrayList<>();
                    for (Escrow.Payee p : e.payees()) {
                        amounts.add(Amount.of(payees.getOrDefault(p.index(), BigInteger.ZERO)));
                    }
                    String data = gateway.get().encodeResolve(info.chainEscrowId(), amounts, Amount.of(payer));
                    List<Call> calls = List.of(call(info, data, e.arbiter(), "resolve"));
                    if (!serviceSends) {
                        return new Outcome(e, calls, List.of(), null, null);
                    }
                    return send(e, "resolve:" + e.id(), arbiterKey.orElseThrow(), data, calls, List.of());
                });
    }

    /** Sends the service's own transaction once per purpose; a refusal if the contract would revert it. */
    private Outcome send(Escrow e, String purpose, Credentials key, String data, List<Call> calls,
                         List<TypedData> typed) {
        try {
            ChainSends.Sent sent = sends.send(purpose, key, gateway.get().address(), data);
            audit.record(Address.of(key.getAddress()).hex(), "ESCROW_CHAIN_SENT", "escrow", e.id(), e.token().hex(),
                    null);
            return new Outcome(e, calls, typed, sent, null);
        } catch (ChainSends.PurposeConflictException conflict) {
            return Outcome.refused(409, "ESCROW_ACTION_CONFLICT", "the service sent a different transaction for this"
                    + " action of this escrow already");
        } catch (ContractRevertedException reverted) {
            String error = reverted.errorName().orElse("reverted");
            return Outcome.refused(422, error.equals("EscrowInvalidSignature") ? "ESCROW_INVALID_SIGNATURE"
                    : "ESCROW_CHAIN_REFUSED", "the contract refuses the call: " + error);
        }
    }

    /** Decides with the contract's rules on the escrow as derived from its confirmed events. */
    private Outcome decide(Escrow e, Address caller, BiFunction<Escrow, Instant, EscrowRules.Decision> rule,
                           java.util.function.Function<EscrowRules.Plan, Outcome> then) {
        EscrowRules.Decision decision = rule.apply(e, clock.instant());
        if (decision.refused()) {
            return caller != null && e.rolesOf(caller).isEmpty() ? Outcome.refused(404, "NOT_FOUND", "escrow not found")
                    : Outcome.refused(Escrows.Result.refused(decision.refusal()));
        }
        return then.apply(decision.plan());
    }

    private Call call(ChainEscrowStore.ChainInfo info, String data, Address from, String function) {
        return new Call(info.contract(), data, BigInteger.ZERO, from, function);
    }

    /** Payee {@code index}'s EIP-712 acceptance of the escrow's terms (TaskEscrow domain, {@code Acceptance}). */
    private TypedData acceptance(Escrow e, ChainEscrowStore.ChainInfo info, int index) {
        Escrow.Payee p = e.payees().get(index);
        Map<String, Object> domain = new LinkedHashMap<>();
        domain.put("name", EscrowAcceptance.DOMAIN_NAME);
        domain.put("version", EscrowAcceptance.DOMAIN_VERSION);
        domain.put("chainId", Long.toString(chainId()));
        domain.put("verifyingContract", info.contract().checksummed());
        Map<String, Object> message = new LinkedHashMap<>();
        message.put("escrowId", info.chainEscrowId().hex());
        message.put("index", Integer.toString(index));
        message.put("payee", p.account().checksummed());
        message.put("token", e.token().checksummed());
        message.put("share", p.share().toString());
        message.put("arbiter", e.arbiter().checksummed());
        message.put("evaluator", (e.evaluator() == null ? e.payer() : e.evaluator()).checksummed());
        message.put("deadline", Long.toString(e.deadline().getEpochSecond()));
        message.put("maxFeeBps", Integer.toString(e.maxFeeBps()));
        message.put("fallbackRule", Integer.toString(e.fallback().ordinal()));
        message.put("termsHash", e.termsHash());
        return new TypedData(domain, Map.of(
                "EIP712Domain", List.of(field("name", "string"), field("version", "string"),
                        field("chainId", "uint256"), field("verifyingContract", "address")),
                "Acceptance", List.of(field("escrowId", "bytes32"), field("index", "uint256"),
                        field("payee", "address"), field("token", "address"), field("share", "uint256"),
                        field("arbiter", "address"), field("evaluator", "address"), field("deadline", "uint64"),
                        field("maxFeeBps", "uint16"), field("fallbackRule", "uint8"), field("termsHash", "bytes32"))),
                "Acceptance", message);
    }

    /** The escrow's terms as the contract takes them (no evaluator: the payer). */
    static EscrowTerms terms(Escrow e) {
        return new EscrowTerms(e.token(), e.payees().stream().map(p -> new Payee(p.account(), Amount.of(p.share())))
                .toList(), e.arbiter(), e.evaluator() == null ? e.payer() : e.evaluator(), e.deadline(),
                BasisPoints.of(e.maxFeeBps()), dev.agentescrow.chain.escrow.FallbackRule.valueOf(e.fallback().name()),
                e.atomic() ? ReleaseMode.ATOMIC : ReleaseMode.PER_PAYEE, Bytes32.fromHex(e.termsHash()));
    }

    private static Map<String, String> field(String name, String type) {
        Map<String, String> field = new LinkedHashMap<>();
        field.put("name", name);
        field.put("type", type);
        return field;
    }

    /** A 65-byte signature r || s || v: v as 27/28 (0/1 accepted). */
    static int v(byte[] signature) {
        if (signature.length != SIGNATURE_LENGTH) {
            throw new IllegalArgumentException("a signature has 65 bytes");
        }
        int v = signature[64] & 0xFF;
        return v < 27 ? v + 27 : v;
    }
}
