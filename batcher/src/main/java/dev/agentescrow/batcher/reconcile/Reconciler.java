package dev.agentescrow.batcher.reconcile;

import dev.agentescrow.batcher.chain.ResilientRpc;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.ChainClient;
import dev.agentescrow.chain.vault.SettlementVaultGateway;
import dev.agentescrow.chain.vault.VaultPayout;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.math.BigInteger;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Compares the vault with itself and with the ledger, per token, and reports every disagreement
 * (log, metric, result); it never corrects anything.
 * <ol>
 *   <li>Custody: the vault's accounted {@code custody(token)} must equal the settled balances of all
 *       its registered accounts plus every pending payout (deferred payouts and capped credits), and
 *       its token balance must be at least that custody; tokens beyond it (donations) are the
 *       report's surplus, never a mismatch.</li>
 *   <li>Accounts: every account's settled balance must equal what the ledger expects
 *       ({@link ExpectedBalances}), for the union of the vault's accounts and the ledger's.</li>
 * </ol>
 * Meters: {@code reconciliation.runs} (counter, tag {@code result} = clean, mismatch or skipped)
 * and {@code reconciliation.mismatches} (gauge: mismatches found by the last run that counted). Run
 * it when no batch is in flight, or expect the in-flight batch to show as mismatches until it
 * confirms: {@link #check} reads without recording anything, so that a caller that finds the run
 * crossed a batch's change of state ({@code ReconcileGuard}) discards it, and {@link #record}s only
 * what it keeps; {@link #reconcile} does both.
 */
public final class Reconciler {
    private static final Logger log = LoggerFactory.getLogger(Reconciler.class);
    /** Upper bound of accounts enumerated per run. */
    public static final int MAX_ACCOUNTS = 1_000_000;

    private final ChainClient client;
    private final SettlementVaultGateway vault;
    private final ResilientRpc rpc;
    private final ExpectedBalances ledger;
    private final long vaultDeploymentBlock;
    private final Clock clock;
    private final Counter cleanRuns;
    private final Counter mismatchRuns;
    private final Counter skippedRuns;
    private final AtomicInteger lastMismatches;

    public Reconciler(ChainClient client, SettlementVaultGateway vault, ResilientRpc rpc, ExpectedBalances ledger,
                      long vaultDeploymentBlock, Clock clock, MeterRegistry registry) {
        this.client = Objects.requireNonNull(client, "client");
        this.vault = Objects.requireNonNull(vault, "vault");
        this.rpc = Objects.requireNonNull(rpc, "rpc");
        this.ledger = Objects.requireNonNull(ledger, "ledger");
        this.vaultDeploymentBlock = vaultDeploymentBlock;
        this.clock = Objects.requireNonNull(clock, "clock");
        this.cleanRuns = registry.counter("reconciliation.runs", "result", "clean");
        this.mismatchRuns = registry.counter("reconciliation.runs", "result", "mismatch");
        this.skippedRuns = registry.counter("reconciliation.runs", "result", "skipped");
        this.lastMismatches = registry.gauge("reconciliation.mismatches", new AtomicInteger());
    }

    /** Reconciles {@code tokens} now and {@link #record}s the result. */
    public ReconciliationReport reconcile(List<Address> tokens) {
        return record(check(tokens));
    }

    /** Compares {@code tokens} now; logs and counts nothing (see {@link #record}). */
    public ReconciliationReport check(List<Address> tokens) {
        // Every chain read of a run is pinned to one block and batched (F6).
        long block = rpc.call(client::blockNumber);
        PinnedVaultReads reads = new PinnedVaultReads(client, vault.address(), block);
        List<Address> accounts = rpc.call(() -> reads.registeredAccounts(MAX_ACCOUNTS));
        List<VaultPayout> payouts = rpc.call(() -> vault.payoutsBetween(vaultDeploymentBlock, block));
        List<ReconciliationReport.TokenReport> reports = new ArrayList<>();
        for (Address token : tokens) {
            reports.add(reconcileToken(token, block, accounts, payouts, reads));
        }
        return new ReconciliationReport(clock.instant(), reports);
    }

    /**
     * Counts a run and logs its mismatches; a skipped run (it crossed a batch's change of state)
     * counts as skipped and leaves the last run's mismatch gauge as it was: what it saw of an
     * in-flight batch is no disagreement.
     */
    public ReconciliationReport record(ReconciliationReport report) {
        if (report.isSkipped()) {
            skippedRuns.increment();
            return report;
        }
        List<Mismatch> mismatches = report.mismatches();
        lastMismatches.set(mismatches.size());
        if (mismatches.isEmpty()) {
            cleanRuns.increment();
        } else {
            mismatchRuns.increment();
            mismatches.forEach(mismatch -> log.warn("reconciliation mismatch: {}", mismatch));
        }
        return report;
    }

    private ReconciliationReport.TokenReport reconcileToken(Address token, long block, List<Address> accounts,
                                                            List<VaultPayout> payouts, PinnedVaultReads reads) {
        Map<Address, BigInteger> expected = ledger.expectedSettled(token, block);
        Map<Address, BigInteger> onChain = new HashMap<>();
        TreeSet<Address> checked = new TreeSet<>(accounts);
        checked.addAll(expected.keySet());
        List<Address> checkedList = List.copyOf(checked);
        List<BigInteger> balances = rpc.call(() -> reads.settledBalances(token, checkedList));
        for (int i = 0; i < checkedList.size(); i++) {
            onChain.put(checkedList.get(i), balances.get(i));
        }
        BigInteger settledSum = onChain.values().stream().reduce(BigInteger.ZERO, BigInteger::add);
        // Pending payouts arise two ways: a payout the token refused (PayoutDeferred, to any recipient)
        // and a credit past the vault's balance cap (BalanceCapExceeded, to the account itself). Every
        // registered account and every deferred recipient is read, so both kinds are counted.
        TreeSet<Address> recipients = new TreeSet<>(accounts);
        payouts.stream()
                .filter(p -> p.token().equals(token) && p.outcome() == VaultPayout.Outcome.DEFERRED)
                .map(VaultPayout::recipient).forEach(recipients::add);
        List<Address> recipientList = List.copyOf(recipients);
        BigInteger pendingSum = rpc.call(() -> reads.pendingPayouts(token, recipientList)).stream()
                .reduce(BigInteger.ZERO, BigInteger::add);
        BigInteger vaultBalance = rpc.call(() -> reads.tokenBalance(token));
        BigInteger custody = rpc.call(() -> reads.custody(token));

        List<Mismatch> mismatches = new ArrayList<>(ledger.ledgerMismatches(token));
        // The vault's own books: what it accounts for is exactly what it owes its accounts.
        BigInteger owed = settledSum.add(pendingSum);
        if (!custody.equals(owed)) {
            mismatches.add(new Mismatch.VaultBooks(token, custody, owed));
        }
        // Anyone can send the vault tokens: more than its accounted custody is a surplus (reported,
        // F6), less is a mismatch.
        BigInteger surplus = vaultBalance.subtract(custody).max(BigInteger.ZERO);
        if (vaultBalance.compareTo(custody) < 0) {
            mismatches.add(new Mismatch.Custody(token, vaultBalance, custody));
        } else if (surplus.signum() > 0) {
            log.info("vault holds {} of token {} beyond its accounted custody {} (donations)", surplus, token,
                    custody);
        }
        for (Address account : checked) {
            BigInteger want = expected.getOrDefault(account, BigInteger.ZERO);
            BigInteger have = onChain.get(account);
            if (!want.equals(have)) {
                mismatches.add(new Mismatch.Account(token, account, have, want));
            }
        }
        return new ReconciliationReport.TokenReport(token, vaultBalance, settledSum, pendingSum, checked.size(),
                mismatches, surplus, ledger.quarantined(token), custody);
    }
}
