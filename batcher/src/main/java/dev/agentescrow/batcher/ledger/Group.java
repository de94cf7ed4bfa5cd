package dev.agentescrow.batcher.ledger;

import dev.agentescrow.batcher.ledger.db.AuditEntry;
import dev.agentescrow.batcher.ledger.db.ExistingTransfer;
import dev.agentescrow.batcher.ledger.db.GroupWrite;
import dev.agentescrow.batcher.ledger.db.TotalsDelta;
import dev.agentescrow.batcher.ledger.db.TransferRow;
import dev.agentescrow.batcher.ledger.db.WithdrawalRow;
import dev.agentescrow.chain.Address;
import java.math.BigInteger;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * One group commit being built by the writer: it validates each transfer against the in-memory
 * state, applies it there at once (so later transfers of the group see its effect), and
 * collects the rows to write. Linked transfers are undone through an undo log when a member
 * fails. If the commit fails, the writer reloads the state from the database instead.
 */
final class Group {
    private static final String LEDGER_ACTOR = "ledger";

    private final LedgerState state;
    private final Instant at;
    private final long maxTimeoutSeconds;
    private final LedgerConfig config;
    private final boolean lookedUp;
    private final Map<TransferId, ExistingTransfer> committed;
    private final Map<TransferId, TransferKind> committedResolutions;

    private final List<Token> newTokens = new ArrayList<>();
    private final List<Account> newAccounts = new ArrayList<>();
    private final List<TransferRow> rows = new ArrayList<>();
    private final Map<TransferId, ExistingTransfer> written = new HashMap<>();
    private final Map<TransferId, TransferKind> resolvedHere = new HashMap<>();
    private final Set<Account> touched = new LinkedHashSet<>();
    private final List<AuditEntry> audit = new ArrayList<>();
    private final Deque<Runnable> undo = new ArrayDeque<>();
    private final Set<TransferId> rejected = new HashSet<>();
    private boolean system;

    /**
     * @param lookedUp             whether {@code committed} holds every committed id this group uses;
     *                             if not, the writer checks ids at insert time instead
     * @param committed            committed transfers with ids this group uses (looked up first)
     * @param committedResolutions for referenced pending ids that are not open: how they were resolved
     */
    Group(LedgerState state, Instant at, LedgerConfig config, boolean lookedUp,
            Map<TransferId, ExistingTransfer> committed, Map<TransferId, TransferKind> committedResolutions) {
        this.state = state;
        this.lookedUp = lookedUp;
        this.at = at;
        this.config = config;
        this.maxTimeoutSeconds = config.maxTimeoutSeconds();
        this.committed = committed;
        this.committedResolutions = committedResolutions;
    }

    /**
     * The id of an EXPIRE transfer: a reserved id holding its own sequence number, so it is unique
     * by construction and no client can take it (F1). Expiry needs no derived id to be idempotent:
     * a hold is open in memory exactly while no committed transfer resolves it.
     */
    static TransferId expireId(long seq) {
        return TransferId.reserved(TransferId.Domain.EXPIRE, seq);
    }

    boolean isEmpty() {
        return newTokens.isEmpty() && rows.isEmpty() && audit.isEmpty();
    }

    int transferCount() {
        return rows.size();
    }

    /** The accounts whose totals this group changed. */
    Set<Account> touched() {
        return touched;
    }

    /** The group's writes (account totals go to the checkpointer after the commit). */
    GroupWrite toWrite() {
        List<WithdrawalRow> withdrawals = new ArrayList<>();
        List<GroupWrite.Closed> paid = new ArrayList<>();
        Map<String, TotalsDelta> totals = new LinkedHashMap<>();
        List<TransferRow> holds = new ArrayList<>();
        List<GroupWrite.Closed> resolvedHolds = new ArrayList<>();
        for (TransferRow row : rows) {
            if (row.kind() == TransferKind.PENDING) {
                holds.add(row);
            } else if (row.pendingId() != null) {
                resolvedHolds.add(new GroupWrite.Closed(0, row.pendingId(), row.seq()));
            }
            if (row.kind() != TransferKind.SINGLE && row.kind() != TransferKind.POST) {
                continue;
            }
            AccountKind debit = state.accountsById.get(row.debitAccountId()).key.kind();
            AccountKind credit = state.accountsById.get(row.creditAccountId()).key.kind();
            String category = category(debit, credit);
            if (category == null) {
                continue;
            }
            totals.merge(row.token().hex() + category, new TotalsDelta(row.token(), category, 1, row.amount()),
                    (a, b) -> new TotalsDelta(a.token(), a.category(), a.count() + 1, a.amount().add(b.amount())));
            if (category.equals(WITHDRAWAL)) {
                withdrawals.add(new WithdrawalRow(row.seq(), row.id(), row.debitAccountId(), row.token(),
                        row.amount(), row.createdAt()));
            } else if (category.equals(PAYOUT) && row.id().isReserved(TransferId.Domain.PAYOUT)) {
                paid.add(new GroupWrite.Closed(row.id().low(), null, row.seq()));
            }
        }
        return new GroupWrite(at, List.copyOf(newTokens),
                newAccounts.stream().map(Account::toRow).toList(),
                List.copyOf(rows),
                List.copyOf(audit), withdrawals, paid, List.copyOf(totals.values()), holds, resolvedHolds);
    }

    static final String DEPOSIT = "DEPOSIT";
    static final String WITHDRAWAL = "WITHDRAWAL";
    static final String PAYOUT = "PAYOUT";

    /**
     * Which running total ({@code ledger_totals}) a posted movement between these kinds counts in:
     * a deposit (CUSTODY -> USER), a withdrawal (USER -> PAYOUTS, also kept in
     * {@code pending_withdrawals} until its payout), a payout of a settled withdrawal (PAYOUTS ->
     * CUSTODY); null for anything else.
     */
    static String category(AccountKind debit, AccountKind credit) {
        if (debit == AccountKind.CUSTODY && credit == AccountKind.USER) {
            return DEPOSIT;
        }
        if (debit == AccountKind.USER && credit == AccountKind.PAYOUTS) {
            return WITHDRAWAL;
        }
        if (debit == AccountKind.PAYOUTS && credit == AccountKind.CUSTODY) {
            return PAYOUT;
        }
        return null;
    }

    // ---------------------------------------------------------------- tokens

    TokenRegistration registerToken(Token token, String actor, String reason) {
        Token existing = state.tokens.get(token.address());
        if (existing != null) {
            return existing.equals(token) ? TokenRegistration.ALREADY_REGISTERED : TokenRegistration.CONFLICT;
        }
        state.tokens.put(token.address(), token);
        newTokens.add(token);
        audit.add(new AuditEntry(at, actor, "REGISTER_TOKEN", token.address().hex(),
                reason + " (" + token.symbol() + ", " + token.decimals() + " decimals)"));
        undo.push(() -> {
            state.tokens.remove(token.address());
            newTokens.remove(newTokens.size() - 1);
            audit.remove(audit.size() - 1);
        });
        for (AccountKind kind : AccountKind.values()) {
            if (kind.isSystem()) {
                openAccount(AccountKey.system(kind, token.address()), "system account of a new token");
            }
        }
        return TokenRegistration.REGISTERED;
    }

    // ---------------------------------------------------------------- submissions

    /**
     * Applies one submission: each unlinked transfer alone, each linked group all or none. A
     * client's ({@code system} false) may not use reserved ids and is held to the token limits
     * and memory bounds; the system's (deposits, escapes, payouts) is not.
     */
    List<TransferReceipt> submit(List<TransferRequest> requests, boolean system, ServiceAudit serviceAudit) {
        this.system = system;
        int n = requests.size();
        TransferResult[] results = new TransferResult[n];
        int start = 0;
        while (start < n) {
            int end = start;
            while (end < n && requests.get(end).linked()) {
                end++;
            }
            if (end == n) {
                for (int k = start; k < n; k++) {
                    results[k] = TransferResult.LINKED_GROUP_OPEN;
                }
                break;
            }
            if (start == end) {
                results[start] = apply(requests.get(start), null);
            } else {
                applyLinked(requests, start, end, results);
            }
            start = end + 1;
        }
        List<TransferReceipt> receipts = new ArrayList<>(n);
        for (int k = 0; k < n; k++) {
            TransferId id = requests.get(k).id();
            if (!results[k].committed()) {
                if (results[k] != TransferResult.RESERVED_ID) {
                    rejected.add(id);
                }
                receipts.add(TransferReceipt.rejected(id, results[k]));
                continue;
            }
            ExistingTransfer stored = written.get(id);
            if (stored == null) {
                stored = committed.get(id);
            }
            receipts.add(new TransferReceipt(id, results[k], stored.row().seq(), stored.row().createdAt()));
            if (serviceAudit != null && results[k] == TransferResult.OK) {
                TransferRow row = stored.row();
                audit.add(new AuditEntry(at, serviceAudit.actor(), serviceAudit.rule(), serviceAudit.subject(),
                        serviceAudit.reason(), row.id(), row.token(), row.amount()));
                undo.push(() -> audit.remove(audit.size() - 1));
            }
        }
        return receipts;
    }

    /** Ids of the transfers this group rejected (to check that none of them was committed earlier). */
    Set<TransferId> rejectedIds() {
        return rejected;
    }

    private void applyLinked(List<TransferRequest> requests, int start, int end, TransferResult[] results) {
        int mark = undo.size();
        TransferId linkGroup = requests.get(start).id();
        boolean failed = false;
        int ok = 0;
        int exists = 0;
        for (int k = start; k <= end && !failed; k++) {
            results[k] = apply(requests.get(k), linkGroup);
            switch (results[k]) {
                case OK -> ok++;
                case EXISTS -> exists++;
                default -> failed = true;
            }
        }
        if (!failed && ok > 0 && exists > 0) {
            failed = true;
        }
        if (failed) {
            rollbackTo(mark);
            for (int k = start; k <= end; k++) {
                // EXISTS of a member that repeats an earlier member of this group names a write
                // the rollback just undid: it failed with the group, it does not exist.
                if (results[k] == null || results[k] == TransferResult.OK
                        || (results[k] == TransferResult.EXISTS && !exists(requests.get(k).id()))) {
                    results[k] = TransferResult.LINKED_TRANSFER_FAILED;
                }
            }
        }
    }

    private boolean exists(TransferId id) {
        return written.containsKey(id) || committed.containsKey(id);
    }

    /** Undoes everything this group applied to the state (not token registrations). */
    void undoAll() {
        rollbackTo(0);
    }

    private void rollbackTo(int mark) {
        while (undo.size() > mark) {
            undo.pop().run();
        }
    }

    private TransferResult apply(TransferRequest request, TransferId linkGroup) {
        if (!system && (request.id().isReserved()
                || (request.pendingId() != null && request.pendingId().isReserved()))) {
            return TransferResult.RESERVED_ID;
        }
        ExistingTransfer previous = written.get(request.id());
        if (previous == null) {
            previous = committed.get(request.id());
        }
        if (previous != null) {
            return sameContent(request, previous)
                    ? TransferResult.EXISTS
                    : TransferResult.EXISTS_WITH_DIFFERENT_CONTENT;
        }
        if (!lookedUp && state.openPendings.containsKey(request.id())) {
            // The id of an open (so committed) pending transfer: judge it against the stored one.
            throw new DuplicateIdException();
        }
        if (!TransferRequest.isValidReference(request.reference())) {
            return TransferResult.INVALID_REFERENCE;
        }
        return switch (request.kind()) {
            case SINGLE, PENDING -> move(request, linkGroup);
            case POST, VOID -> resolve(request, linkGroup);
            case EXPIRE -> throw new IllegalStateException("clients cannot submit EXPIRE");
        };
    }

    private TransferResult move(TransferRequest request, TransferId linkGroup) {
        BigInteger amount = request.amount().baseUnits();
        if (amount.signum() == 0) {
            return TransferResult.INVALID_AMOUNT;
        }
        Address token = request.debit().token();
        if (Address.ZERO.equals(token) || Address.ZERO.equals(request.debit().owner())
                || Address.ZERO.equals(request.credit().owner())) {
            return TransferResult.INVALID_ADDRESS;
        }
        if (!token.equals(request.credit().token())) {
            return TransferResult.ACCOUNT_TOKEN_MISMATCH;
        }
        if (request.debit().equals(request.credit())) {
            return TransferResult.SAME_ACCOUNT;
        }
        if (!state.tokens.containsKey(token)) {
            return TransferResult.UNKNOWN_TOKEN;
        }
        boolean pending = request.kind() == TransferKind.PENDING;
        if (pending && (request.timeoutSeconds() == null || request.timeoutSeconds() <= 0
                || request.timeoutSeconds() > (system ? TransferRequest.MAX_SYSTEM_TIMEOUT_SECONDS : maxTimeoutSeconds))) {
            return TransferResult.INVALID_TIMEOUT;
        }
        TokenLimits limits = config.limits(token);
        if (!system && amount.compareTo(limits.maxTransfer()) > 0) {
            return TransferResult.AMOUNT_EXCEEDS_LIMIT;
        }
        Account debit = state.accounts.get(request.debit());
        if (debit == null || !debit.canSpend(amount)) {
            return TransferResult.INSUFFICIENT_FUNDS;
        }
        Account credit = state.accounts.get(request.credit());
        if (!system) {
            if (request.credit().kind() == AccountKind.USER) {
                BigInteger after = credit == null ? amount
                        : credit.creditsPosted.add(credit.creditsPending).subtract(credit.debitsPosted).add(amount);
                if (after.compareTo(limits.maxBalance()) > 0) {
                    return TransferResult.BALANCE_EXCEEDS_LIMIT;
                }
            }
            if (credit == null && state.accounts.size() >= config.maxAccounts()) {
                return TransferResult.TOO_MANY_ACCOUNTS;
            }
            if (pending && state.openPendings.size() >= config.maxOpenPendings()) {
                return TransferResult.TOO_MANY_PENDING;
            }
        }
        if (credit == null) {
            credit = openAccount(request.credit(), "first credit, transfer " + request.id());
        }
        touch(debit);
        touch(credit);
        Account.Totals debitBefore = debit.totals();
        Account.Totals creditBefore = credit.totals();
        Account payer = debit;
        Account payee = credit;
        undo.push(() -> {
            payer.restore(debitBefore);
            payee.restore(creditBefore);
        });
        Instant expiresAt = null;
        if (pending) {
            debit.debitsPending = debit.debitsPending.add(amount);
            credit.creditsPending = credit.creditsPending.add(amount);
            expiresAt = at.plusSeconds(request.timeoutSeconds());
            OpenPending hold = new OpenPending(request.id(), debit, credit, amount, expiresAt);
            state.addPending(hold);
            undo.push(() -> state.removePending(hold));
        } else {
            debit.debitsPosted = debit.debitsPosted.add(amount);
            credit.creditsPosted = credit.creditsPosted.add(amount);
        }
        addRow(new TransferRow(request.id(), 0, request.kind(), debit.id, credit.id, token, amount, null,
                request.timeoutSeconds(), expiresAt, linkGroup, request.reference(), at), null);
        return TransferResult.OK;
    }

    private TransferResult resolve(TransferRequest request, TransferId linkGroup) {
        OpenPending hold = state.openPendings.get(request.pendingId());
        if (hold == null) {
            TransferKind resolution = resolvedHere.get(request.pendingId());
            if (resolution == null) {
                resolution = committedResolutions.get(request.pendingId());
            }
            if (resolution == null) {
                return TransferResult.PENDING_NOT_FOUND;
            }
            return switch (resolution) {
                case POST -> TransferResult.PENDING_ALREADY_POSTED;
                case VOID -> TransferResult.PENDING_ALREADY_VOIDED;
                default -> TransferResult.PENDING_EXPIRED;
            };
        }
        if (!hold.expiresAt().isAfter(at)) {
            return TransferResult.PENDING_EXPIRED;
        }
        BigInteger amount = hold.amount();
        if (request.kind() == TransferKind.POST && request.amount() != null) {
            amount = request.amount().baseUnits();
            if (amount.signum() == 0) {
                return TransferResult.INVALID_AMOUNT;
            }
            if (amount.compareTo(hold.amount()) > 0) {
                return TransferResult.POST_AMOUNT_EXCEEDS_PENDING;
            }
        }
        release(hold, request.kind(), amount);
        addRow(new TransferRow(request.id(), 0, request.kind(), hold.debit().id, hold.credit().id,
                hold.debit().key.token(), amount, hold.id(), null, null, linkGroup, request.reference(), at),
                hold.amount());
        return TransferResult.OK;
    }

    /** Ends a hold: the pending amounts go, and for POST {@code posted} is moved for good. */
    private void release(OpenPending hold, TransferKind kind, BigInteger posted) {
        Account debit = hold.debit();
        Account credit = hold.credit();
        touch(debit);
        touch(credit);
        Account.Totals debitBefore = debit.totals();
        Account.Totals creditBefore = credit.totals();
        undo.push(() -> {
            debit.restore(debitBefore);
            credit.restore(creditBefore);
        });
        debit.debitsPending = debit.debitsPending.subtract(hold.amount());
        credit.creditsPending = credit.creditsPending.subtract(hold.amount());
        if (kind == TransferKind.POST) {
            debit.debitsPosted = debit.debitsPosted.add(posted);
            credit.creditsPosted = credit.creditsPosted.add(posted);
        }
        state.removePending(hold);
        resolvedHere.put(hold.id(), kind);
        undo.push(() -> {
            state.addPending(hold);
            resolvedHere.remove(hold.id());
        });
    }

    // ---------------------------------------------------------------- expiry

    /** The open pending transfers past their timeout, earliest first, at most {@code limit}. */
    static List<OpenPending> expiryCandidates(LedgerState state, Instant at, int limit) {
        List<OpenPending> due = new ArrayList<>();
        for (OpenPending hold : state.pendingsByExpiry) {
            if (due.size() >= limit || hold.expiresAt().isAfter(at)) {
                break;
            }
            due.add(hold);
        }
        return due;
    }

    /** Writes an EXPIRE transfer for each candidate still open; returns how many. */
    int expire(List<OpenPending> candidates) {
        int expired = 0;
        for (OpenPending hold : candidates) {
            if (!state.openPendings.containsKey(hold.id())) {
                continue;
            }
            TransferId id = expireId(state.nextSeq);
            release(hold, TransferKind.EXPIRE, hold.amount());
            addRow(new TransferRow(id, 0, TransferKind.EXPIRE, hold.debit().id, hold.credit().id,
                    hold.debit().key.token(), hold.amount(), hold.id(), null, null, null, "timeout", at),
                    hold.amount());
            expired++;
        }
        return expired;
    }

    // ---------------------------------------------------------------- helpers

    private void addRow(TransferRow unsequenced, BigInteger pendingAmount) {
        long seq = state.nextSeq++;
        TransferRow row = new TransferRow(unsequenced.id(), seq, unsequenced.kind(), unsequenced.debitAccountId(),
                unsequenced.creditAccountId(), unsequenced.token(), unsequenced.amount(), unsequenced.pendingId(),
                unsequenced.timeoutSeconds(), unsequenced.expiresAt(), unsequenced.linkGroup(),
                unsequenced.reference(), unsequenced.createdAt());
        rows.add(row);
        written.put(row.id(), new ExistingTransfer(row, pendingAmount));
        undo.push(() -> {
            rows.remove(rows.size() - 1);
            written.remove(row.id());
            state.nextSeq--;
        });
    }

    private void touch(Account account) {
        if (touched.add(account)) {
            undo.push(() -> touched.remove(account));
        }
    }

    private Account openAccount(AccountKey key, String reason) {
        Account account = new Account(state.nextAccountId++, key, at);
        state.addAccount(account);
        newAccounts.add(account);
        audit.add(new AuditEntry(at, LEDGER_ACTOR, "OPEN_ACCOUNT", key.toString(), reason));
        undo.push(() -> {
            state.removeAccount(account);
            newAccounts.remove(newAccounts.size() - 1);
            audit.remove(audit.size() - 1);
            state.nextAccountId--;
        });
        return account;
    }

    private boolean sameContent(TransferRequest request, ExistingTransfer previous) {
        TransferRow row = previous.row();
        if (request.kind() != row.kind() || !Objects.equals(request.reference(), row.reference())) {
            return false;
        }
        return switch (request.kind()) {
            case SINGLE, PENDING -> {
                Account debit = state.accounts.get(request.debit());
                Account credit = state.accounts.get(request.credit());
                yield debit != null && credit != null && debit.id == row.debitAccountId()
                        && credit.id == row.creditAccountId()
                        && request.amount().baseUnits().equals(row.amount())
                        && Objects.equals(request.timeoutSeconds(), row.timeoutSeconds());
            }
            case POST -> request.pendingId().equals(row.pendingId())
                    && (request.amount() == null
                            ? row.amount().equals(previous.pendingAmount())
                            : request.amount().baseUnits().equals(row.amount()));
            case VOID -> request.pendingId().equals(row.pendingId());
            case EXPIRE -> false;
        };
    }
}
