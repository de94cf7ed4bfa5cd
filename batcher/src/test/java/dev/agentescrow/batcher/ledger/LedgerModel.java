package dev.agentescrow.batcher.ledger;

import static org.assertj.core.api.Assertions.assertThat;

import dev.agentescrow.chain.Address;
import java.math.BigInteger;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * An independent, deliberately simple model of the ledger's rules, used as the auditor of the
 * random workload: it predicts every result and every balance. It shares no code with the
 * writer beyond the public request and result types.
 */
public final class LedgerModel {
    /** Totals of one account: posted debits, posted credits, pending debits, pending credits. */
    public record Totals(BigInteger dp, BigInteger cp, BigInteger dpe, BigInteger cpe) {
        public static final Totals ZERO = new Totals(BigInteger.ZERO, BigInteger.ZERO, BigInteger.ZERO, BigInteger.ZERO);

        public BigInteger available() {
            return cp.subtract(dp).subtract(dpe);
        }
    }

    record Hold(AccountKey debit, AccountKey credit, BigInteger amount, Instant expiresAt) {
    }

    /** What was committed under an id, to judge replays. */
    record Content(TransferKind kind, AccountKey debit, AccountKey credit, BigInteger amount, TransferId pendingId,
            Long timeoutSeconds, String reference) {
    }

    private final Set<Address> tokens;
    private final long maxTimeoutSeconds;
    private Map<AccountKey, Totals> accounts = new HashMap<>();
    private Map<TransferId, Hold> open = new HashMap<>();
    private Map<TransferId, TransferKind> resolved = new HashMap<>();
    private Map<TransferId, Content> committed = new HashMap<>();
    private Map<TransferId, Hold> allHolds = new HashMap<>();

    public LedgerModel(Set<Address> tokens, long maxTimeoutSeconds) {
        this.tokens = tokens;
        this.maxTimeoutSeconds = maxTimeoutSeconds;
    }

    public Map<AccountKey, Totals> accounts() {
        return accounts;
    }

    List<TransferId> holdIds() {
        return new ArrayList<>(allHolds.keySet());
    }

    public List<TransferId> openHoldIds() {
        return new ArrayList<>(open.keySet());
    }

    Content content(TransferId id) {
        return committed.get(id);
    }

    List<TransferId> committedIds() {
        return new ArrayList<>(committed.keySet());
    }

    public Totals totals(AccountKey key) {
        return accounts.getOrDefault(key, Totals.ZERO);
    }

    /**
     * Asserts that every account of {@code ledger} (and every account this model knows) has the
     * four totals this model predicts; {@code context} (e.g. the seed and round) goes into the message.
     */
    public void assertMatches(Ledger ledger, String context) {
        Map<AccountKey, AccountBalance> actual = ledger.balances();
        Set<AccountKey> keys = new HashSet<>(actual.keySet());
        keys.addAll(accounts.keySet());
        for (AccountKey key : keys) {
            AccountBalance balance = actual.get(key);
            Totals got = balance == null ? Totals.ZERO : new Totals(balance.debitsPosted(), balance.creditsPosted(),
                    balance.debitsPending(), balance.creditsPending());
            assertThat(got).as("balance of %s, %s", key, context).isEqualTo(totals(key));
        }
    }

    /** Expires every open hold past its timeout; returns how many. */
    public int expire(Instant now) {
        List<TransferId> due = open.entrySet().stream()
                .filter(e -> !e.getValue().expiresAt().isAfter(now)).map(Map.Entry::getKey).toList();
        for (TransferId id : due) {
            Hold hold = open.remove(id);
            release(hold, BigInteger.ZERO);
            resolved.put(id, TransferKind.EXPIRE);
        }
        return due.size();
    }

    /** The vault's cap on one balance, and so on client transfers and user balances: 2^85 - 1. */
    static final BigInteger CAP = BigInteger.ONE.shiftLeft(85).subtract(BigInteger.ONE);
    private boolean system;

    /** The results of one submission of the batcher's own (reserved ids, no client limits). */
    public List<TransferResult> submitSystem(List<TransferRequest> requests, Instant now) {
        system = true;
        try {
            return submit(requests, now);
        } finally {
            system = false;
        }
    }

    /** The results of one client submission, applied to the model. */
    public List<TransferResult> submit(List<TransferRequest> requests, Instant now) {
        List<TransferResult> results = new ArrayList<>();
        int i = 0;
        while (i < requests.size()) {
            int end = i;
            while (end < requests.size() && requests.get(end).linked()) {
                end++;
            }
            if (end == requests.size()) {
                for (int k = i; k < requests.size(); k++) {
                    results.add(TransferResult.LINKED_GROUP_OPEN);
                }
                break;
            }
            if (i == end) {
                results.add(apply(requests.get(i), now));
            } else {
                results.addAll(applyChain(requests.subList(i, end + 1), now));
            }
            i = end + 1;
        }
        return results;
    }

    private List<TransferResult> applyChain(List<TransferRequest> chain, Instant now) {
        Map<AccountKey, Totals> accountsBefore = new HashMap<>(accounts);
        Map<TransferId, Hold> openBefore = new HashMap<>(open);
        Map<TransferId, TransferKind> resolvedBefore = new HashMap<>(resolved);
        Map<TransferId, Content> committedBefore = new HashMap<>(committed);
        Map<TransferId, Hold> allHoldsBefore = new HashMap<>(allHolds);
        List<TransferResult> results = new ArrayList<>();
        boolean failed = false;
        for (TransferRequest request : chain) {
            if (failed) {
                results.add(TransferResult.LINKED_TRANSFER_FAILED);
                continue;
            }
            TransferResult result = apply(request, now);
            results.add(result);
            failed = result != TransferResult.OK && result != TransferResult.EXISTS;
        }
        if (!failed && results.contains(TransferResult.OK) && results.contains(TransferResult.EXISTS)) {
            failed = true;
        }
        if (failed) {
            accounts = accountsBefore;
            open = openBefore;
            resolved = resolvedBefore;
            committed = committedBefore;
            allHolds = allHoldsBefore;
            results.replaceAll(r -> r == TransferResult.OK ? TransferResult.LINKED_TRANSFER_FAILED : r);
        }
        return results;
    }

    private static boolean reserved(TransferId id) {
        return id != null && id.toBigInteger().shiftRight(96).intValue() == -1;
    }

    private static boolean badReference(String reference) {
        return reference != null && (reference.length() > 128
                || reference.chars().anyMatch(ch -> ch < 0x20 || (ch >= 0x7f && ch <= 0x9f)));
    }

    private TransferResult apply(TransferRequest r, Instant now) {
        if (!system && (reserved(r.id()) || reserved(r.pendingId()))) {
            return TransferResult.RESERVED_ID;
        }
        Content previous = committed.get(r.id());
        if (previous != null) {
            return same(r, previous) ? TransferResult.EXISTS : TransferResult.EXISTS_WITH_DIFFERENT_CONTENT;
        }
        if (badReference(r.reference())) {
            return TransferResult.INVALID_REFERENCE;
        }
        if (r.kind() == TransferKind.POST || r.kind() == TransferKind.VOID) {
            return resolve(r, now);
        }
        BigInteger amount = r.amount().baseUnits();
        if (amount.signum() == 0) {
            return TransferResult.INVALID_AMOUNT;
        }
        Address zero = Address.of("0x" + "0".repeat(40));
        if (zero.equals(r.debit().token()) || zero.equals(r.debit().owner()) || zero.equals(r.credit().owner())) {
            return TransferResult.INVALID_ADDRESS;
        }
        if (!r.debit().token().equals(r.credit().token())) {
            return TransferResult.ACCOUNT_TOKEN_MISMATCH;
        }
        if (r.debit().equals(r.credit())) {
            return TransferResult.SAME_ACCOUNT;
        }
        if (!tokens.contains(r.debit().token())) {
            return TransferResult.UNKNOWN_TOKEN;
        }
        boolean pending = r.kind() == TransferKind.PENDING;
        if (pending && (r.timeoutSeconds() <= 0
                || r.timeoutSeconds() > (system ? TransferRequest.MAX_SYSTEM_TIMEOUT_SECONDS : maxTimeoutSeconds))) {
            return TransferResult.INVALID_TIMEOUT;
        }
        if (!system && amount.compareTo(CAP) > 0) {
            return TransferResult.AMOUNT_EXCEEDS_LIMIT;
        }
        Totals debit = totals(r.debit());
        if (r.debit().kind() != AccountKind.CUSTODY && debit.available().compareTo(amount) < 0) {
            return TransferResult.INSUFFICIENT_FUNDS;
        }
        Totals credit = totals(r.credit());
        if (!system) {
            if (r.credit().kind() == AccountKind.USER
                    && credit.cp().add(credit.cpe()).subtract(credit.dp()).add(amount).compareTo(CAP) > 0) {
                return TransferResult.BALANCE_EXCEEDS_LIMIT;
            }
        }
        if (pending) {
            accounts.put(r.debit(), new Totals(debit.dp(), debit.cp(), debit.dpe().add(amount), debit.cpe()));
            accounts.put(r.credit(), new Totals(credit.dp(), credit.cp(), credit.dpe(), credit.cpe().add(amount)));
            Hold hold = new Hold(r.debit(), r.credit(), amount, now.plusSeconds(r.timeoutSeconds()));
            open.put(r.id(), hold);
            allHolds.put(r.id(), hold);
        } else {
            accounts.put(r.debit(), new Totals(debit.dp().add(amount), debit.cp(), debit.dpe(), debit.cpe()));
            accounts.put(r.credit(), new Totals(credit.dp(), credit.cp().add(amount), credit.dpe(), credit.cpe()));
        }
        committed.put(r.id(), new Content(r.kind(), r.debit(), r.credit(), amount, null, r.timeoutSeconds(),
                r.reference()));
        return TransferResult.OK;
    }

    private TransferResult resolve(TransferRequest r, Instant now) {
        Hold hold = open.get(r.pendingId());
        if (hold == null) {
            TransferKind how = resolved.get(r.pendingId());
            if (how == null) {
                return TransferResult.PENDING_NOT_FOUND;
            }
            return how == TransferKind.POST ? TransferResult.PENDING_ALREADY_POSTED
                    : how == TransferKind.VOID ? TransferResult.PENDING_ALREADY_VOIDED
                    : TransferResult.PENDING_EXPIRED;
        }
        if (!now.isBefore(hold.expiresAt())) {
            return TransferResult.PENDING_EXPIRED;
        }
        BigInteger amount = hold.amount();
        if (r.kind() == TransferKind.POST && r.amount() != null) {
            amount = r.amount().baseUnits();
            if (amount.signum() == 0) {
                return TransferResult.INVALID_AMOUNT;
            }
            if (amount.compareTo(hold.amount()) > 0) {
                return TransferResult.POST_AMOUNT_EXCEEDS_PENDING;
            }
        }
        open.remove(r.pendingId());
        release(hold, r.kind() == TransferKind.POST ? amount : BigInteger.ZERO);
        resolved.put(r.pendingId(), r.kind());
        committed.put(r.id(), new Content(r.kind(), null, null, amount, r.pendingId(), null, r.reference()));
        return TransferResult.OK;
    }

    private void release(Hold hold, BigInteger posted) {
        Totals debit = totals(hold.debit());
        Totals credit = totals(hold.credit());
        accounts.put(hold.debit(), new Totals(debit.dp().add(posted), debit.cp(),
                debit.dpe().subtract(hold.amount()), debit.cpe()));
        accounts.put(hold.credit(), new Totals(credit.dp(), credit.cp().add(posted), credit.dpe(),
                credit.cpe().subtract(hold.amount())));
    }

    private boolean same(TransferRequest r, Content c) {
        if (r.kind() != c.kind() || !Objects.equals(r.reference(), c.reference())) {
            return false;
        }
        return switch (r.kind()) {
            case SINGLE, PENDING -> r.debit().equals(c.debit()) && r.credit().equals(c.credit())
                    && r.amount().baseUnits().equals(c.amount())
                    && Objects.equals(r.timeoutSeconds(), c.timeoutSeconds());
            case POST -> r.pendingId().equals(c.pendingId())
                    && (r.amount() == null ? allHolds.get(r.pendingId()).amount() : r.amount().baseUnits())
                            .equals(c.amount());
            case VOID -> r.pendingId().equals(c.pendingId());
            case EXPIRE -> false;
        };
    }
}
