package dev.agentescrow.batcher.runtime;

import dev.agentescrow.batcher.ledger.AccountKey;
import dev.agentescrow.batcher.ledger.Ledger;
import dev.agentescrow.batcher.ledger.Token;
import dev.agentescrow.batcher.ledger.TransferResult;
import dev.agentescrow.batcher.leadership.LeadershipConfig;
import dev.agentescrow.batcher.leadership.Role;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.local.DevAccounts;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.math.BigInteger;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.locks.LockSupport;

/**
 * The leader of {@link StandbyTakeoverIT} as a separate process, to be killed with SIGKILL: starts a
 * batcher (it must be elected at once), registers the token, waits until the test's deposits are credited, then submits the
 * workload's transfers one after another and prints {@code ACK <i>} once transfer {@code i} is
 * acknowledged, until it is killed or {@link TakeoverWorkload#MAX_TRANSFERS} are done.
 *
 * <p>Arguments: JDBC URL, RPC URL, vault address, token address, vault deployment block.
 */
public final class LeaderProcess {
    private static final Duration CREDIT_WAIT = Duration.ofSeconds(60);

    private LeaderProcess() {
    }

    public static void main(String[] args) {
        Address vault = Address.of(args[2]);
        Address token = Address.of(args[3]);
        BatcherConfig config = TakeoverWorkload.config(args[0], args[1], vault, Long.parseLong(args[4]));
        LeadershipConfig leadership = LeadershipConfig.defaults().withNodeId("child-" + ProcessHandle.current().pid())
                .withAddress("127.0.0.1:1");
        try (Batcher batcher = Batcher.start(config, leadership, DevAccounts.account(TakeoverWorkload.OPERATOR),
                Clock.systemUTC(), new SimpleMeterRegistry())) {
            if (batcher.role() != Role.LEADER) {
                throw new IllegalStateException("the child must lead: " + batcher.role());
            }
            System.out.println("LEADER " + batcher.epoch());
            Ledger ledger = batcher.ledger();
            ledger.registerToken(new Token(token, "TUSD", 6), "takeover-test", "takeover test token");
            System.out.println("REGISTERED");
            System.out.flush();
            long deadline = System.nanoTime() + CREDIT_WAIT.toNanos();
            BigInteger deposit = TakeoverWorkload.DEPOSIT.baseUnits();
            while (!TakeoverWorkload.agents().stream().allMatch(agent -> ledger.balance(AccountKey.user(agent, token))
                    .map(b -> b.balance().equals(deposit)).orElse(false))) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("deposits not credited within " + CREDIT_WAIT);
                }
                LockSupport.parkNanos(Duration.ofMillis(50).toNanos());
            }
            System.out.println("CREDITED");
            System.out.flush();
            for (int i = 0; i < TakeoverWorkload.MAX_TRANSFERS; i++) {
                TransferResult result = ledger.submit(TakeoverWorkload.transfer(i, token));
                if (!result.committed()) {
                    throw new IllegalStateException("transfer " + i + ": " + result);
                }
                System.out.println("ACK " + i);
                System.out.flush();
            }
        }
        System.out.println("DONE");
        System.out.flush();
        System.exit(0);
    }
}
