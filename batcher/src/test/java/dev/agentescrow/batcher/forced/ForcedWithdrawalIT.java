package dev.agentescrow.batcher.forced;

import static dev.agentescrow.batcher.testing.Conditions.awaitUntil;
import static org.assertj.core.api.Assertions.assertThat;

import dev.agentescrow.batcher.db.DatabaseConfig;
import dev.agentescrow.batcher.ledger.AccountBalance;
import dev.agentescrow.batcher.ledger.AccountKey;
import dev.agentescrow.batcher.ledger.Ledger;
import dev.agentescrow.batcher.ledger.Token;
import dev.agentescrow.batcher.reconcile.VaultHealthCheck;
import dev.agentescrow.batcher.runtime.Batcher;
import dev.agentescrow.batcher.runtime.BatcherConfig;
import dev.agentescrow.batcher.settlement.TickResult;
import dev.agentescrow.batcher.settlement.db.SettlementAddresses;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.ChainSettings;
import dev.agentescrow.chain.Erc20Token;
import dev.agentescrow.chain.Signer;
import dev.agentescrow.chain.local.DevAccounts;
import dev.agentescrow.chain.testing.LocalChain;
import dev.agentescrow.chain.testing.LocalChainExtension;
import dev.agentescrow.chain.vault.SettlementVaultGateway;
import dev.agentescrow.chain.vault.TokenLimits;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.math.BigInteger;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Forced withdrawals against the assembled {@link Batcher} on a Hardhat node: a request made on
 * chain is booked by the scheduled indexer and served by the next scheduled batch; then, with the
 * batcher stopped, a second request nears its deadline (the watch alarms), passes it, anyone
 * freezes the vault, and the restarted batcher neither settles nor refuses anything: its submitter
 * reports {@code VAULT_FROZEN} and the reconciliation step reports the frozen vault.
 */
@ExtendWith(LocalChainExtension.class)
class ForcedWithdrawalIT {
    private static final int OPERATOR = 19;
    /** Accounts that no other test sends from through another client (their nonces stay in step). */
    private static final int ALICE = 18;
    private static final int BOB = 12;
    private static final int FEE_COLLECTOR = 13;
    private static final int ESCROW_HOLDER = 14;
    private static final Duration WINDOW = Duration.ofHours(1);
    private static final Amount DEPOSIT = Amount.of(1_000_000);
    private static final BatcherConfig.Schedule FAST = new BatcherConfig.Schedule(Duration.ofMillis(50),
            Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(200));

    @Test
    void aForcedWithdrawalIsServedByTheNextBatchAndAnUnservedOneFreezesTheVault(LocalChain chain,
                                                                                @TempDir Path dataDir) {
        Signer admin = chain.account(LocalChain.ADMIN);
        Signer alice = chain.account(ALICE);
        Signer bob = chain.account(BOB);
        Erc20Token token = Erc20Token.deployTestToken(chain.client(), admin, "Forced USD", "FUSD", 6);
        Address usd = token.address();
        long deploymentBlock = chain.client().blockNumber() + 1;
        SettlementVaultGateway vault = SettlementVaultGateway.deploy(chain.client(), admin, admin.address(),
                chain.account(OPERATOR).address(), Duration.ofDays(7), WINDOW, WINDOW.multipliedBy(2));
        vault.listToken(admin, usd, TokenLimits.UNLIMITED);
        BatcherConfig config = BatcherConfig.defaults(DatabaseConfig.embedded(dataDir.resolve("pg")),
                        ChainSettings.local(chain.rpcUrl()), vault.address(), deploymentBlock,
                        new SettlementAddresses(chain.account(FEE_COLLECTOR).address(),
                                chain.account(ESCROW_HOLDER).address()))
                .withConfirmations(0).withTrigger(5, Duration.ofSeconds(1)).withSchedule(FAST);

        // 1. A forced withdrawal is booked and served by the next scheduled batch.
        BigInteger aliceTokens = token.balanceOf(alice.address()).baseUnits();
        try (Batcher batcher = Batcher.start(config, DevAccounts.account(OPERATOR), Clock.systemUTC(),
                new SimpleMeterRegistry())) {
            Ledger ledger = batcher.ledger();
            ledger.registerToken(new Token(usd, "FUSD", 6), "forced-it", "forced withdrawal test token");
            for (Signer agent : new Signer[] {alice, bob}) {
                token.mint(admin, agent.address(), DEPOSIT);
                vault.deposit(agent, usd, DEPOSIT);
            }
            awaitUntil("both deposits are credited", () -> available(ledger, bob.address(), usd)
                    .equals(DEPOSIT.baseUnits()) && available(ledger, alice.address(), usd).equals(DEPOSIT.baseUnits()));

            long requestedAt = chain.client().blockNumber() + 1;
            vault.requestForcedWithdrawal(alice, usd, Amount.of(300_000));
            awaitUntil("the vault closes alice's request", () -> vault.forcedWithdrawal(usd, alice.address()).isEmpty());
            assertThat(vault.forcedWithdrawalsServedBetween(requestedAt, chain.client().blockNumber()))
                    .singleElement().satisfies(served -> {
                        assertThat(served.account()).isEqualTo(alice.address());
                        assertThat(served.paid()).isEqualTo(Amount.of(300_000));
                    });
            assertThat(token.balanceOf(alice.address()).baseUnits()).isEqualTo(aliceTokens.add(BigInteger.valueOf(300_000)));
            assertThat(available(ledger, alice.address(), usd)).isEqualTo(BigInteger.valueOf(700_000));
            assertThat(vault.settledBalance(usd, alice.address())).isEqualTo(Amount.of(700_000));
            awaitUntil("a clean reconciliation after the batch", () -> batcher.lastReconciliation()
                    .filter(report -> report.clean()).isPresent() && batcher.vaultHealth()
                    .filter(VaultHealthCheck.VaultHealth::healthy).isPresent());
        }

        // 2. The batcher is stopped while bob asks; it comes back with a submitter that is in no hurry
        //    (its trigger waits 10 hours): the request is booked but not served, and the watch alarms.
        vault.requestForcedWithdrawal(bob, usd, Amount.of(400_000));
        chain.increaseTime(WINDOW.minusMinutes(10).toSeconds());
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        try (Batcher batcher = Batcher.start(config.withTrigger(1_000, Duration.ofHours(10)),
                DevAccounts.account(OPERATOR), Clock.systemUTC(), meters)) {
            awaitUntil("bob's request is booked", () -> available(batcher.ledger(), bob.address(), usd)
                    .equals(BigInteger.valueOf(600_000)));
            awaitUntil("the watch alarms", () -> gauge(meters, "vault.forced.withdrawals.due.soon") == 1);
            assertThat(gauge(meters, "vault.forced.withdrawal.seconds.left")).isBetween(0.0, 600.0);
            assertThat(batcher.openForcedWithdrawals()).singleElement()
                    .satisfies(request -> assertThat(request.account()).isEqualTo(bob.address()));
        }

        // 3. Stopped, the batcher lets the deadline pass; anyone freezes the vault.
        chain.increaseTime(Duration.ofMinutes(11).toSeconds());
        vault.freeze(alice, usd, bob.address());
        assertThat(vault.frozen()).isTrue();

        // 4. Restarted, it settles nothing more, refuses nothing, and reports the frozen vault.
        SimpleMeterRegistry frozenMeters = new SimpleMeterRegistry();
        long lastBatch = vault.lastBatchId();
        try (Batcher batcher = Batcher.start(config, DevAccounts.account(OPERATOR), Clock.systemUTC(), frozenMeters)) {
            awaitUntil("the submitter meets the frozen vault",
                    () -> batcher.settleNow().outcome() == TickResult.Outcome.VAULT_FROZEN);
            assertThat(batcher.reconcile()).isNotNull();
            assertThat(batcher.vaultHealth()).hasValueSatisfying(health -> {
                assertThat(health.frozen()).isTrue();
                assertThat(health.healthy()).isFalse();
            });
            assertThat(gauge(frozenMeters, "vault.frozen")).isEqualTo(1.0);
            assertThat(available(batcher.ledger(), bob.address(), usd)).isEqualTo(BigInteger.valueOf(600_000));
        }
        assertThat(vault.lastBatchId()).isEqualTo(lastBatch);
        // every account takes its settled balance out on chain
        BigInteger bobTokens = token.balanceOf(bob.address()).baseUnits();
        vault.escapeWithdraw(bob, usd);
        assertThat(token.balanceOf(bob.address()).baseUnits()).isEqualTo(bobTokens.add(DEPOSIT.baseUnits()));
        vault.escapeWithdraw(alice, usd);
        assertThat(token.balanceOf(vault.address())).isEqualTo(Amount.ZERO);
    }

    private static double gauge(SimpleMeterRegistry meters, String name) {
        var gauge = meters.find(name).gauge();
        return gauge == null ? Double.NaN : gauge.value();
    }

    private static BigInteger available(Ledger ledger, Address owner, Address token) {
        return ledger.balance(AccountKey.user(owner, token)).map(AccountBalance::available).orElse(BigInteger.ZERO);
    }
}
