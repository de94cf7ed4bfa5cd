package dev.agentescrow.batcher.settlement;

import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.vault.SettlementBatch;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** Test data: addresses, seeded random movements and an independent auditor of their nets. */
final class Movements {
    private Movements() {
    }

    static Address address(String prefix, int i) {
        return Address.of(String.format("0x%s%036x", prefix, i));
    }

    static Address account(int i) {
        return address("aaaa", i + 1);
    }

    static Address token(int i) {
        return address("7070", i + 1);
    }

    static SettlementMovement.Transfer transfer(long id, Address token, Address from, Address to, long amount) {
        return new SettlementMovement.Transfer(TransferId.of(id), token, from, to, Amount.of(amount));
    }

    static SettlementMovement.Withdrawal withdrawal(long id, Address token, Address account, Address recipient,
                                                    long amount) {
        return new SettlementMovement.Withdrawal(TransferId.of(id), token, account, recipient, Amount.of(amount));
    }

    /** Knobs of a random workload. */
    record Shape(int movements, int accounts, int tokens, int withdrawalPercent, BigInteger maxAmount) {
    }

    /** Seeded random movements with distinct random 128-bit ids. */
    static List<SettlementMovement> random(Random random, Shape shape) {
        List<SettlementMovement> out = new ArrayList<>();
        for (int i = 0; i < shape.movements(); i++) {
            TransferId id = TransferId.of(new BigInteger(96, random).shiftLeft(32).or(BigInteger.valueOf(i)));
            Address token = token(random.nextInt(shape.tokens()));
            Address from = account(random.nextInt(shape.accounts()));
            Amount amount = Amount.of(new BigInteger(shape.maxAmount().bitLength(), random)
                    .mod(shape.maxAmount()).add(BigInteger.ONE));
            if (random.nextInt(100) < shape.withdrawalPercent()) {
                Address recipient = random.nextBoolean() ? from : address("bbbb", random.nextInt(1_000));
                out.add(new SettlementMovement.Withdrawal(id, token, from, recipient, amount));
            } else {
                Address to = account(random.nextInt(shape.accounts() - 1));
                if (to.equals(from)) {
                    to = account(shape.accounts() - 1);
                }
                out.add(new SettlementMovement.Transfer(id, token, from, to, amount));
            }
        }
        return out;
    }

    /** Per token and account: credits minus debits of the transfers, counted here independently. */
    static Map<Address, Map<Address, BigInteger>> expectedNets(List<SettlementMovement> movements) {
        Map<Address, Map<Address, BigInteger>> nets = new HashMap<>();
        for (SettlementMovement movement : movements) {
            if (movement instanceof SettlementMovement.Transfer t) {
                Map<Address, BigInteger> token = nets.computeIfAbsent(t.token(), k -> new HashMap<>());
                token.merge(t.from(), t.amount().baseUnits().negate(), BigInteger::add);
                token.merge(t.to(), t.amount().baseUnits(), BigInteger::add);
            }
        }
        nets.values().forEach(token -> token.values().removeIf(v -> v.signum() == 0));
        nets.values().removeIf(Map::isEmpty);
        return nets;
    }

    /** The same figure taken from netted batches' deltas. */
    static Map<Address, Map<Address, BigInteger>> nettedDeltas(List<SettlementBatch> batches) {
        Map<Address, Map<Address, BigInteger>> nets = new HashMap<>();
        for (SettlementBatch batch : batches) {
            for (SettlementBatch.TokenSettlement token : batch.tokens()) {
                for (SettlementBatch.Delta delta : token.deltas()) {
                    nets.computeIfAbsent(token.token(), k -> new HashMap<>())
                            .merge(delta.account(), delta.signedDelta(), BigInteger::add);
                }
            }
        }
        nets.values().forEach(token -> token.values().removeIf(v -> v.signum() == 0));
        nets.values().removeIf(Map::isEmpty);
        return nets;
    }

    /** The payouts that {@code movements}' withdrawals must become, in movement order. */
    static List<SettlementBatch.Payout> expectedPayouts(List<SettlementMovement> movements) {
        List<SettlementBatch.Payout> payouts = new ArrayList<>();
        for (SettlementMovement movement : movements) {
            if (movement instanceof SettlementMovement.Withdrawal w) {
                payouts.add(new SettlementBatch.Payout(w.account(), w.recipient(), w.amount()));
            }
        }
        return payouts;
    }
}
