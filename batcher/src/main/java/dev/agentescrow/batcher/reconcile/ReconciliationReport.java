package dev.agentescrow.batcher.reconcile;

import dev.agentescrow.chain.Address;
import java.math.BigInteger;
import java.time.Instant;
import java.util.List;
import java.util.OptionalLong;

/**
 * The result of one reconciliation run over some tokens.
 *
 * @param inFlightBatch the batch that was SUBMITTED (or changed state) while the run was asked
 *                      for: the run was skipped, {@code tokens} is empty and nothing was checked
 *                      (issue 10, F6)
 */
public record ReconciliationReport(Instant at, List<TokenReport> tokens, OptionalLong inFlightBatch) {
    public ReconciliationReport {
        tokens = List.copyOf(tokens);
        java.util.Objects.requireNonNull(inFlightBatch, "inFlightBatch");
    }

    public ReconciliationReport(Instant at, List<TokenReport> tokens) {
        this(at, tokens, OptionalLong.empty());
    }

    /** A run skipped because batch {@code batchId} is in flight. */
    public static ReconciliationReport skipped(Instant at, long batchId) {
        return new ReconciliationReport(at, List.of(), OptionalLong.of(batchId));
    }

    /** Whether the run was skipped for a batch in flight (then it checked nothing). */
    public boolean isSkipped() {
        return inFlightBatch.isPresent();
    }

    /**
     * @param vaultTokenBalance the token's {@code balanceOf(vault)}
     * @param settledSum the sum of every registered account's settled balance
     * @param pendingPayoutSum the sum of pending payouts not yet claimed: deferred payouts and the
     *                        excess of credits past the vault's balance cap
     * @param accountsChecked accounts compared with the ledger
     * @param surplus         tokens the vault holds beyond its accounted {@code custody} (donations:
     *                        anyone may send the vault tokens); reported, not a mismatch
     * @param quarantined     movements of this token taken out of settlement, waiting for a person
     * @param custody         the vault's accounted custody of the token, {@code custody(token)}
     */
    public record TokenReport(Address token, BigInteger vaultTokenBalance, BigInteger settledSum,
                              BigInteger pendingPayoutSum, int accountsChecked, List<Mismatch> mismatches,
                              BigInteger surplus, long quarantined, BigInteger custody) {
        public TokenReport {
            mismatches = List.copyOf(mismatches);
        }
    }

    public List<Mismatch> mismatches() {
        return tokens.stream().flatMap(t -> t.mismatches().stream()).toList();
    }

    /** No mismatch in a run that did check: a skipped run is never clean. */
    public boolean clean() {
        return !isSkipped() && mismatches().isEmpty();
    }
}
