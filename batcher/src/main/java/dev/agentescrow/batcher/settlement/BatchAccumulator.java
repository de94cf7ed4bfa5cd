package dev.agentescrow.batcher.settlement;

import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.vault.SettlementBatch;
import dev.agentescrow.chain.vault.SettlementBatch.Delta;
import dev.agentescrow.chain.vault.SettlementBatch.Payout;
import dev.agentescrow.chain.vault.SettlementBatch.TokenSettlement;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * The running net of one batch being filled: per token the net of every account and the payouts,
 * and the exact figures the vault bounds (entries after dropping zero nets, payouts, tokens with
 * at least one entry, largest net). Not thread-safe; used by one netting or planning pass.
 */
final class BatchAccumulator {
    private final int maxMovements;
    private final long maxGas;
    private final Map<Address, TokenNet> tokens = new TreeMap<>();
    private final List<SettlementMovement> movements = new ArrayList<>();
    private final Set<TransferId> ids = new HashSet<>();
    private final BatchPlanner.Funded funded;
    private int entries;
    /** Deltas that may write their balance slot from zero: credits to accounts not known to be funded. */
    private int freshDeltas;
    private int payouts;
    private int activeTokens;

    /** A batch bounded by the vault and {@code maxMovements}, with no gas budget. */
    BatchAccumulator(int maxMovements) {
        this(maxMovements, Long.MAX_VALUE, BatchPlanner.Funded.NONE);
    }

    /** A batch bounded by the vault, {@code maxMovements} and the {@link BatchGas} bound {@code maxGas}. */
    BatchAccumulator(int maxMovements, long maxGas) {
        this(maxMovements, maxGas, BatchPlanner.Funded.NONE);
    }

    /**
     * As {@link #BatchAccumulator(int, long)}, a credit to an account that {@code funded} names
     * counted as a delta written from non-zero ({@link BatchGas#FUNDED_ENTRY}), as is every debit.
     */
    BatchAccumulator(int maxMovements, long maxGas, BatchPlanner.Funded funded) {
        this.maxMovements = maxMovements;
        this.maxGas = maxGas;
        this.funded = java.util.Objects.requireNonNull(funded, "funded");
    }

    /** 1 if a net of {@code net} for {@code account} may write its slot from zero: a credit to an account not funded. */
    private int fresh(Address token, Address account, BigInteger net) {
        return net.signum() > 0 && !funded.funded(token, account) ? 1 : 0;
    }

    /** The bound {@code movement} would break if added, or empty if it fits. */
    Optional<BatchBound> exceeded(SettlementMovement movement) {
        if (movements.size() + 1 > maxMovements) {
            return Optional.of(BatchBound.MOVEMENTS);
        }
        TokenNet token = tokens.get(movement.token());
        boolean activeBefore = token != null && token.entries() > 0;
        int entriesChange;
        int freshChange = 0;
        int payoutsChange;
        switch (movement) {
            case SettlementMovement.Transfer t -> {
                BigInteger amount = t.amount().baseUnits();
                BigInteger fromBefore = token == null ? BigInteger.ZERO : token.net(t.from());
                BigInteger toBefore = token == null ? BigInteger.ZERO : token.net(t.to());
                BigInteger fromAfter = fromBefore.subtract(amount);
                BigInteger toAfter = toBefore.add(amount);
                if (fromAfter.abs().compareTo(SettlementBatch.MAX_ENTRY_AMOUNT) > 0
                        || toAfter.abs().compareTo(SettlementBatch.MAX_ENTRY_AMOUNT) > 0) {
                    return Optional.of(BatchBound.DELTA_AMOUNT);
                }
                entriesChange = nonZeroChange(fromBefore, fromAfter) + nonZeroChange(toBefore, toAfter);
                freshChange = fresh(t.token(), t.from(), fromAfter) - fresh(t.token(), t.from(), fromBefore)
                        + fresh(t.token(), t.to(), toAfter) - fresh(t.token(), t.to(), toBefore);
                payoutsChange = 0;
            }
            case SettlementMovement.Withdrawal w -> {
                entriesChange = 1;
                payoutsChange = 1;
            }
        }
        int tokenEntriesAfter = (token == null ? 0 : token.entries()) + entriesChange;
        int tokensAfter = activeTokens + (tokenEntriesAfter > 0 ? 1 : 0) - (activeBefore ? 1 : 0);
        if (entries + entriesChange > SettlementBatch.MAX_ENTRIES) {
            return Optional.of(BatchBound.ENTRIES);
        }
        if (payouts + payoutsChange > SettlementBatch.MAX_PAYOUTS) {
            return Optional.of(BatchBound.PAYOUTS);
        }
        if (tokensAfter > SettlementBatch.MAX_TOKENS) {
            return Optional.of(BatchBound.TOKENS);
        }
        if (BatchGas.estimate(entries + entriesChange, freshDeltas + freshChange, payouts + payoutsChange, tokensAfter)
                > maxGas) {
            return Optional.of(BatchBound.GAS);
        }
        return Optional.empty();
    }

    /** Adds {@code movement}; the caller checked {@link #exceeded} first. */
    void add(SettlementMovement movement) {
        if (!ids.add(movement.transferId())) {
            throw new IllegalArgumentException("movement id appears twice: " + movement.transferId());
        }
        TokenNet token = tokens.computeIfAbsent(movement.token(), key -> new TokenNet());
        int entriesBefore = token.entries();
        switch (movement) {
            case SettlementMovement.Transfer t -> {
                freshDeltas -= fresh(t.token(), t.from(), token.net(t.from())) + fresh(t.token(), t.to(), token.net(t.to()));
                token.credit(t.from(), t.amount().baseUnits().negate());
                token.credit(t.to(), t.amount().baseUnits());
                freshDeltas += fresh(t.token(), t.from(), token.net(t.from())) + fresh(t.token(), t.to(), token.net(t.to()));
            }
            case SettlementMovement.Withdrawal w -> {
                token.payouts.add(new Payout(w.account(), w.recipient(), w.amount()));
                payouts++;
            }
        }
        int entriesAfter = token.entries();
        entries += entriesAfter - entriesBefore;
        activeTokens += (entriesAfter > 0 ? 1 : 0) - (entriesBefore > 0 ? 1 : 0);
        movements.add(movement);
    }

    boolean isEmpty() {
        return movements.isEmpty();
    }

    int size() {
        return movements.size();
    }

    List<SettlementMovement> movements() {
        return List.copyOf(movements);
    }

    /**
     * The vault's view of the accumulated movements: tokens in address order, each with its
     * non-zero nets in account address order and its payouts in movement order; tokens without
     * any entry are left out.
     */
    List<TokenSettlement> tokenSettlements() {
        List<TokenSettlement> out = new ArrayList<>();
        tokens.forEach((token, net) -> {
            if (net.entries() > 0) {
                List<Delta> deltas = new ArrayList<>(net.nets.size());
                net.nets.forEach((account, delta) -> deltas.add(new Delta(account, delta)));
                deltas.sort(Comparator.comparing(Delta::account));
                out.add(new TokenSettlement(token, deltas, net.payouts));
            }
        });
        return out;
    }

    private static int nonZeroChange(BigInteger before, BigInteger after) {
        return (after.signum() != 0 ? 1 : 0) - (before.signum() != 0 ? 1 : 0);
    }

    /**
     * One token's non-zero nets (zero nets are removed) and payouts. The nets are hashed, not
     * sorted: every movement looks up two of them (a tree's address comparisons were a tenth of
     * settlement's CPU); {@link #tokenSettlements()} sorts them once.
     */
    private static final class TokenNet {
        private final Map<Address, BigInteger> nets = new HashMap<>();
        private final List<Payout> payouts = new ArrayList<>();

        BigInteger net(Address account) {
            return nets.getOrDefault(account, BigInteger.ZERO);
        }

        void credit(Address account, BigInteger signedAmount) {
            BigInteger after = net(account).add(signedAmount);
            if (after.signum() == 0) {
                nets.remove(account);
            } else {
                nets.put(account, after);
            }
        }

        int entries() {
            return nets.size() + payouts.size();
        }
    }
}
