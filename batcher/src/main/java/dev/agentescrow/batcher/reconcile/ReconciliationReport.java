package dev.agentescrow.batcher.reconcile;

import dev.agentescrow.chain.Address;
import java.math.BigInteger;
import java.time.Instant;
import java.util.List;

/** The result of one reconciliation run over some tokens. */
public record ReconciliationReport(Instant at, List<TokenReport> tokens) {
    public ReconciliationReport {
        tokens = List.copyOf(tokens);
    }

    /**
     * @param vaultTokenBalance the token's {@code balanceOf(vault)}
     * @param settledSum the sum of every registered account's settled balance
     * @param pendingPayoutSum the sum of payouts deferred and not yet claimed
     * @param accountsChecked accounts compared with the ledger
     * @param surplus         tokens the vault holds beyond its settled balances and pending payouts
     *                        (donations: anyone may send the vault tokens); reported, not a mismatch
     * @param quarantined     movements of this token taken out of settlement, waiting for a person
     */
    public record TokenReport(Address token, BigInteger vaultTokenBalance, BigInteger settledSum,
                              BigInteger pendingPayoutSum, int accountsChecked, List<Mismatch> mismatches,
                              BigInteger surplus, long quarantined) {
        public TokenReport {
            mismatches = List.copyOf(mismatches);
        }

        public TokenReport(Address token, BigInteger vaultTokenBalance, BigInteger settledSum,
                           BigInteger pendingPayoutSum, int accountsChecked, List<Mismatch> mismatches) {
            this(token, vaultTokenBalance, settledSum, pendingPayoutSum, accountsChecked, mismatches,
                    BigInteger.ZERO, 0);
        }
    }

    public List<Mismatch> mismatches() {
        return tokens.stream().flatMap(t -> t.mismatches().stream()).toList();
    }

    public boolean clean() {
        return mismatches().isEmpty();
    }
}
