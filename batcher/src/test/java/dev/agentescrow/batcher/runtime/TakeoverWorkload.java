package dev.agentescrow.batcher.runtime;

import dev.agentescrow.batcher.db.DatabaseConfig;
import dev.agentescrow.batcher.ledger.AccountKey;
import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.batcher.ledger.TransferRequest;
import dev.agentescrow.batcher.settlement.db.SettlementAddresses;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.ChainSettings;
import dev.agentescrow.chain.local.DevAccounts;
import java.time.Duration;
import java.util.List;
import java.util.stream.IntStream;

/**
 * The business of the takeover tests, shared by the test and its leader child process: transfer
 * {@code i} is always the same (id, payer, payee, amount), so whoever leads can be asked for it again.
 */
final class TakeoverWorkload {
    /** The vault operator (dev account 19); one leader signs at a time. */
    static final int OPERATOR = 19;
    static final int FEE_COLLECTOR = 13;
    static final int ESCROW_HOLDER = 14;
    static final List<Integer> AGENT_ACCOUNTS = List.of(3, 4, 5, 6, 7);
    static final Amount DEPOSIT = Amount.of(100_000_000);
    /** A bound on any load loop. */
    static final int MAX_TRANSFERS = 5_000;
    static final BatcherConfig.Schedule FAST = new BatcherConfig.Schedule(Duration.ofMillis(100),
            Duration.ofMillis(100), Duration.ofMillis(200), Duration.ofMinutes(10));
    private static final long NAMESPACE = 0x7A4E0FL;

    private TakeoverWorkload() {
    }

    static Address address(int devAccount) {
        return Address.of(DevAccounts.account(devAccount).getAddress());
    }

    static List<Address> agents() {
        return AGENT_ACCOUNTS.stream().map(TakeoverWorkload::address).toList();
    }

    static TransferRequest transfer(int i, Address token) {
        List<Address> agents = agents();
        Address from = agents.get(i % agents.size());
        Address to = agents.get((i + 1) % agents.size());
        return TransferRequest.single(id(i), AccountKey.user(from, token), AccountKey.user(to, token),
                Amount.of(1 + i % 97));
    }

    static TransferId id(int i) {
        return new TransferId(NAMESPACE, i);
    }

    static List<TransferRequest> transfers(int count, Address token) {
        return IntStream.range(0, count).mapToObj(i -> transfer(i, token)).toList();
    }

    static BatcherConfig config(String jdbcUrl, String rpcUrl, Address vault, long deploymentBlock) {
        return BatcherConfig.defaults(DatabaseConfig.external(jdbcUrl, "postgres", "postgres"),
                        ChainSettings.local(rpcUrl), vault, deploymentBlock,
                        new SettlementAddresses(address(FEE_COLLECTOR), address(ESCROW_HOLDER)))
                .withConfirmations(0).withTrigger(5, Duration.ofMillis(500)).withSchedule(FAST);
    }
}
