package dev.agentescrow.batcher.crash;

import dev.agentescrow.batcher.ledger.AccountKey;
import dev.agentescrow.batcher.ledger.AccountKind;
import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.batcher.ledger.TransferRequest;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.local.DevAccounts;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * The deterministic business of the crash tests, shared by the parent test and its child
 * processes: the same round number always yields the same transfers with the same ids, so a
 * restarted child resubmits exactly what the killed one was submitting.
 */
final class CrashWorkload {
    /** The operator key: dev account 19, used only by one child process at a time. */
    static final int OPERATOR = 19;
    /** Agents and system holders: the dev accounts LedgerSettlementIT uses, never in parallel with it. */
    static final List<Integer> AGENT_ACCOUNTS = List.of(3, 4, 5, 6, 7, 8);
    static final int FEE_COLLECTOR = 13;
    static final int ESCROW_HOLDER = 14;
    static final Amount DEPOSIT = Amount.tokens(1_000, 6);
    static final Amount SYSTEM_DEPOSIT = Amount.of(1);
    static final Amount WITHDRAWAL = Amount.tokens(7, 6);
    static final int TRANSFERS_PER_ROUND = 10;
    private static final long NAMESPACE = 0xC4A5L;

    private CrashWorkload() {
    }

    static List<Address> agents() {
        return AGENT_ACCOUNTS.stream().map(CrashWorkload::address).toList();
    }

    static Address address(int devAccount) {
        return Address.of(DevAccounts.account(devAccount).getAddress());
    }

    /** Round {@code round}'s transfers: a ring of agent payments and, if asked, one withdrawal. */
    static List<TransferRequest> round(int round, Address token, boolean withdrawal) {
        List<Address> agents = agents();
        List<TransferRequest> out = new ArrayList<>();
        for (int i = 0; i < TRANSFERS_PER_ROUND; i++) {
            Address from = agents.get((i + round) % agents.size());
            Address to = agents.get((i + round + 1) % agents.size());
            out.add(TransferRequest.single(id(round, i), AccountKey.user(from, token), AccountKey.user(to, token),
                    Amount.of(1_000L * (round + 1) + i)));
        }
        if (withdrawal) {
            out.add(TransferRequest.single(id(round, TRANSFERS_PER_ROUND),
                    AccountKey.user(agents.get(round % agents.size()), token), AccountKey.payouts(token), WITHDRAWAL));
        }
        return out;
    }

    static TransferId id(int round, int index) {
        return new TransferId(NAMESPACE, round * 1_000L + index);
    }

    /** The users' expected ledger balances after the deposits and the given rounds. */
    static Map<Address, BigInteger> expectedUsers(List<List<TransferRequest>> rounds, Address token) {
        Map<Address, BigInteger> out = new HashMap<>();
        agents().forEach(agent -> out.put(agent, DEPOSIT.baseUnits()));
        IntStream.of(FEE_COLLECTOR, ESCROW_HOLDER).forEach(i -> out.put(address(i), SYSTEM_DEPOSIT.baseUnits()));
        for (List<TransferRequest> round : rounds) {
            for (TransferRequest request : round) {
                BigInteger amount = request.amount().baseUnits();
                if (request.debit().kind() == AccountKind.USER) {
                    out.merge(request.debit().owner(), amount.negate(), BigInteger::add);
                }
                if (request.credit().kind() == AccountKind.USER) {
                    out.merge(request.credit().owner(), amount, BigInteger::add);
                }
            }
        }
        return out;
    }
}
