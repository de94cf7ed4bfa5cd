package dev.agentescrow.batcher.forced;

import dev.agentescrow.batcher.chain.ResilientRpc;
import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.batcher.settlement.BatchAmendment;
import dev.agentescrow.batcher.settlement.NettedBatch;
import dev.agentescrow.batcher.settlement.SettlementMovement;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.vault.SettlementBatch;
import dev.agentescrow.chain.vault.SettlementBatch.Payout;
import dev.agentescrow.chain.vault.SettlementBatch.TokenSettlement;
import dev.agentescrow.chain.vault.SettlementVaultGateway;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;

/**
 * Marks the payouts of a batch that serve an open forced withdrawal, so that the vault closes the
 * request ({@link BatchAmendment}). The indexer booked each request as a ledger withdrawal whose id
 * is {@link ForcedWithdrawalIds#transferId} of the open request; the payout of a withdrawal movement
 * with that id becomes {@link Payout#servingForcedWithdrawal} of the requested amount (the vault pays
 * the lesser of the request and the balance after the batch's deltas), moved to the end of its
 * token's payouts. Everything else is left as it is.
 */
public final class ForcedWithdrawalServing implements BatchAmendment {
    private final SettlementVaultGateway vault;
    private final ResilientRpc rpc;

    public ForcedWithdrawalServing(SettlementVaultGateway vault, ResilientRpc rpc) {
        this.vault = Objects.requireNonNull(vault, "vault");
        this.rpc = Objects.requireNonNull(rpc, "rpc");
    }

    /** A withdrawal of the batch that books an open request of {@code requested}. */
    private record Serve(Address token, Address account, Amount booked, Amount requested) {
        boolean matches(Address payoutToken, Payout payout) {
            return token.equals(payoutToken) && account.equals(payout.account()) && account.equals(payout.recipient())
                    && booked.equals(payout.amount()) && !payout.servesForcedWithdrawal();
        }
    }

    @Override
    public SettlementBatch amend(NettedBatch batch) {
        SettlementBatch plain = batch.settlementBatch();
        List<Serve> serves = new ArrayList<>();
        for (SettlementMovement movement : batch.movements()) {
            if (movement instanceof SettlementMovement.Withdrawal w && w.account().equals(w.recipient())) {
                rpc.call(() -> vault.forcedWithdrawal(w.token(), w.account()))
                        .filter(open -> ForcedWithdrawalIds.transferId(w.token(), w.account(),
                                open.amount(), open.deadline()).equals(w.transferId()))
                        .ifPresent(open -> serves.add(new Serve(w.token(), w.account(), w.amount(), open.amount())));
            }
        }
        if (serves.isEmpty()) {
            return plain;
        }
        List<TokenSettlement> tokens = new ArrayList<>();
        for (TokenSettlement token : plain.tokens()) {
            List<Payout> ordinary = new ArrayList<>();
            List<Payout> forced = new ArrayList<>();
            for (Payout payout : token.payouts()) {
                Serve serve = take(serves, token.token(), payout);
                if (serve == null) {
                    ordinary.add(payout);
                } else {
                    forced.add(Payout.servingForcedWithdrawal(serve.account(), serve.requested()));
                }
            }
            ordinary.addAll(forced);
            tokens.add(new TokenSettlement(token.token(), token.deltas(), ordinary));
        }
        return new SettlementBatch(plain.batchId(), plain.merkleRoot(), tokens);
    }

    private static Serve take(List<Serve> serves, Address token, Payout payout) {
        for (Iterator<Serve> it = serves.iterator(); it.hasNext(); ) {
            Serve serve = it.next();
            if (serve.matches(token, payout)) {
                it.remove();
                return serve;
            }
        }
        return null;
    }
}
