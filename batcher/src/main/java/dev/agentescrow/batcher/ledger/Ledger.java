package dev.agentescrow.batcher.ledger;

import dev.agentescrow.batcher.db.Database;
import dev.agentescrow.batcher.db.WriteFence;
import dev.agentescrow.batcher.ledger.db.AccountRow;
import dev.agentescrow.batcher.ledger.db.LedgerStore;
import dev.agentescrow.batcher.ledger.db.Migrations;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.sql.DataSource;

/**
 * The durable off-chain double-entry ledger. Submit one transfer or many; each gets a
 * {@link TransferResult}. A future completes only once its transfers are durably committed.
 * Expected outcomes (insufficient funds, bad input, conflicts) are results; only infrastructure
 * failures throw {@link LedgerException}, and resubmitting with the same ids is then safe.
 *
 * <p>Thread-safe: any number of threads may submit. All writes go through one writer thread
 * that commits them in groups (see {@link LedgerWriter} and docs/ledger.md).
 */
public final class Ledger implements AutoCloseable {
    private final DataSource dataSource;
    private final LedgerConfig config;
    private final LedgerWriter writer;
    private final LedgerStore store = new LedgerStore();
    private final Database ownedDatabase;
    private final LedgerMetrics metrics;

    private Ledger(DataSource dataSource, LedgerConfig config, Clock clock, Database ownedDatabase,
                   LedgerMetrics metrics, WriteFence fence) {
        this.dataSource = dataSource;
        this.config = config;
        this.ownedDatabase = ownedDatabase;
        this.metrics = metrics;
        this.writer = new LedgerWriter(dataSource, config, clock, fence);
        metrics.queueDepth(writer::queueDepth);
    }

    /** Starts the database of {@code config} (embedded unless a JDBC URL is set) and a ledger on it. */
    public static Ledger open(LedgerConfig config, Clock clock) {
        return open(config, clock, LedgerMetrics.none());
    }

    /** As {@link #open(LedgerConfig, Clock)}, reporting to {@code metrics}. */
    public static Ledger open(LedgerConfig config, Clock clock, LedgerMetrics metrics) {
        Database database = Database.start(config.database());
        try {
            return start(database.dataSource(), config, clock, database, metrics);
        } catch (RuntimeException e) {
            database.close();
            throw e;
        }
    }

    /** Starts a ledger on an existing data source (the caller owns it). */
    public static Ledger start(DataSource dataSource, LedgerConfig config, Clock clock) {
        return start(dataSource, config, clock, null, LedgerMetrics.none());
    }

    /** As {@link #start(DataSource, LedgerConfig, Clock)}, reporting to {@code metrics}. */
    public static Ledger start(DataSource dataSource, LedgerConfig config, Clock clock, LedgerMetrics metrics) {
        return start(dataSource, config, clock, null, metrics, WriteFence.NONE);
    }

    /**
     * As {@link #start(DataSource, LedgerConfig, Clock, LedgerMetrics)}, under a leader's
     * {@code fence}: every group commit checks it in its transaction, and once it refuses, the
     * writer refuses everything (see docs/batcher.md, "Leadership"). The fence takes the place of
     * the writer's own advisory lock.
     */
    public static Ledger start(DataSource dataSource, LedgerConfig config, Clock clock, LedgerMetrics metrics,
                               WriteFence fence) {
        return start(dataSource, config, clock, null, metrics, Objects.requireNonNull(fence, "fence"));
    }

    private static Ledger start(DataSource dataSource, LedgerConfig config, Clock clock, Database owned,
                                LedgerMetrics metrics) {
        return start(dataSource, config, clock, owned, metrics, WriteFence.NONE);
    }

    private static Ledger start(DataSource dataSource, LedgerConfig config, Clock clock, Database owned,
                                LedgerMetrics metrics, WriteFence fence) {
        Objects.requireNonNull(dataSource, "dataSource");
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(clock, "clock");
        Objects.requireNonNull(metrics, "metrics");
        Migrations.migrate(dataSource);
        Ledger ledger = new Ledger(dataSource, config, clock, owned, metrics, fence);
        ledger.writer.start();
        return ledger;
    }

    public LedgerConfig config() {
        return config;
    }

    // ---------------------------------------------------------------- writes

    /** Submits transfers; the future holds one result per transfer, in order, once committed. */
    public CompletableFuture<List<TransferResult>> submitAsync(List<TransferRequest> requests) {
        return submitReceiptsAsync(requests).thenApply(Ledger::results);
    }

    /**
     * As {@link #submitAsync(List)}, with each transfer's sequence number and commit time
     * ({@link TransferReceipt}): a reader on any instance asked for "at least that seq" sees it.
     */
    public CompletableFuture<List<TransferReceipt>> submitReceiptsAsync(List<TransferRequest> requests) {
        return enqueueSubmit(requests, false, null);
    }

    /** As {@link #submitReceiptsAsync}, waiting for the commit (at most the request timeout). */
    public List<TransferReceipt> submitReceipts(List<TransferRequest> requests) {
        return await(submitReceiptsAsync(requests));
    }

    /**
     * Submits a rule-driven movement (see {@code command.ServiceCommands}) and records
     * {@code audit} for each transfer that commits now, in the same database transaction as the
     * transfer: the row exists exactly when the movement does, and a replay (EXISTS) adds none.
     */
    public List<TransferReceipt> submitAudited(List<TransferRequest> requests, ServiceAudit audit) {
        return await(enqueueSubmit(requests, false, Objects.requireNonNull(audit, "audit")));
    }

    private CompletableFuture<List<TransferReceipt>> enqueueSubmit(List<TransferRequest> requests, boolean system,
            ServiceAudit audit) {
        List<TransferRequest> copy = List.copyOf(requests);
        if (copy.size() > config.maxSubmissionSize()) {
            throw new IllegalArgumentException("at most " + config.maxSubmissionSize() + " transfers per submission");
        }
        if (copy.isEmpty()) {
            return CompletableFuture.completedFuture(List.of());
        }
        CompletableFuture<List<TransferReceipt>> future = new CompletableFuture<>();
        future.whenComplete((receipts, failure) -> {
            if (failure == null) {
                metrics.recorded(results(receipts));
            } else {
                metrics.failed();
            }
        });
        writer.enqueue(new Command.Submit(copy, system, audit, future));
        return future;
    }

    private static List<TransferResult> results(List<TransferReceipt> receipts) {
        return receipts.stream().map(TransferReceipt::result).toList();
    }

    /**
     * Submits the batcher's own transfers (deposits and escapes booked from the vault's events,
     * payouts of settled batches): their ids are in the reserved namespace ({@link TransferId#reserved})
     * and they are not held to client limits. Only the batcher's components call this; client
     * entry points ({@link #submit}, {@link #submitAsync}, {@link #submitInputs}) refuse reserved
     * ids with {@link TransferResult#RESERVED_ID}.
     */
    public List<TransferResult> submitSystem(List<TransferRequest> requests) {
        return results(await(enqueueSubmit(requests, true, null)));
    }

    /** Submits transfers and waits until they are committed. */
    public List<TransferResult> submit(List<TransferRequest> requests) {
        return await(submitAsync(requests));
    }

    public TransferResult submit(TransferRequest request) {
        return submit(List.of(request)).getFirst();
    }

    public CompletableFuture<TransferResult> submitAsync(TransferRequest request) {
        return submitAsync(List.of(request)).thenApply(List::getFirst);
    }

    /**
     * Submits transfers given as strings (as they come from JSON): malformed ids, addresses,
     * amounts or kinds get their result code without reaching the writer; a linked group with
     * a malformed member fails as a whole.
     */
    public List<TransferResult> submitInputs(List<TransferInput> inputs) {
        int n = inputs.size();
        TransferResult[] results = new TransferResult[n];
        TransferInput.Parsed[] parsed = new TransferInput.Parsed[n];
        for (int i = 0; i < n; i++) {
            parsed[i] = inputs.get(i).parse();
        }
        List<TransferRequest> valid = new ArrayList<>();
        List<Integer> positions = new ArrayList<>();
        int start = 0;
        while (start < n) {
            int end = start;
            while (end < n - 1 && inputs.get(end).linked()) {
                end++;
            }
            boolean groupOk = true;
            for (int k = start; k <= end; k++) {
                groupOk &= parsed[k].ok();
            }
            for (int k = start; k <= end; k++) {
                if (groupOk) {
                    valid.add(parsed[k].request());
                    positions.add(k);
                } else {
                    results[k] = parsed[k].ok() ? TransferResult.LINKED_TRANSFER_FAILED : parsed[k].error();
                    metrics.recorded(results[k]);
                }
            }
            start = end + 1;
        }
        List<TransferResult> submitted = submit(valid);
        for (int i = 0; i < submitted.size(); i++) {
            results[positions.get(i)] = submitted.get(i);
        }
        return Arrays.asList(results);
    }

    /**
     * Expires pending transfers whose timeout has passed (by the ledger's clock), at most
     * {@code maxGroupSize} per call; returns how many were expired. Call it on a schedule.
     */
    public int expirePending() {
        CompletableFuture<Integer> future = new CompletableFuture<>();
        writer.enqueue(new Command.Expire(config.maxGroupSize(), future));
        return await(future);
    }

    /** Registers a token and creates its system accounts; recorded in the audit log. */
    public TokenRegistration registerToken(Token token, String actor, String reason) {
        CompletableFuture<TokenRegistration> future = new CompletableFuture<>();
        writer.enqueue(new Command.RegisterToken(token, actor, reason, future));
        return await(future);
    }

    // ---------------------------------------------------------------- reads (committed state)

    /** The registered tokens, ordered by address. */
    public List<Token> tokens() {
        try (Connection c = dataSource.getConnection()) {
            List<Token> tokens = new ArrayList<>(store.loadTokens(c));
            tokens.sort(Comparator.comparing(token -> token.address().hex()));
            return tokens;
        } catch (SQLException e) {
            throw new LedgerException("could not read tokens", e);
        }
    }

    /** Committed totals of one account, if it exists. */
    public Optional<AccountBalance> balance(AccountKey key) {
        return Optional.ofNullable(balances().get(key));
    }

    /** Committed totals of every account. */
    public Map<AccountKey, AccountBalance> balances() {
        try (Connection c = dataSource.getConnection()) {
            Map<AccountKey, AccountBalance> balances = new LinkedHashMap<>();
            for (AccountRow row : store.readAccounts(c)) {
                balances.put(row.key(), new AccountBalance(row.key(), row.debitsPosted(), row.creditsPosted(),
                        row.debitsPending(), row.creditsPending()));
            }
            return balances;
        } catch (SQLException e) {
            throw new LedgerException("could not read balances", e);
        }
    }

    /** Stops the writer (queued submissions fail) and, if this ledger started it, the database. */
    @Override
    public void close() {
        writer.stop();
        if (ownedDatabase != null) {
            ownedDatabase.close();
        }
    }

    /** Waits for {@code future} at most the configured request timeout (F5: no wait without a deadline). */
    private <T> T await(CompletableFuture<T> future) {
        try {
            return future.get(config.requestTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof LedgerException failure) {
                throw failure;
            }
            throw new LedgerException("ledger request failed", e.getCause());
        } catch (TimeoutException e) {
            throw new LedgerException("no answer from the ledger within " + config.requestTimeout()
                    + "; the request may still commit: resubmit with the same ids to learn its result", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LedgerException("interrupted while waiting for the ledger", e);
        }
    }
}
