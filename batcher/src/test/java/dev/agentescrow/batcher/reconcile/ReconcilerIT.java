package dev.agentescrow.batcher.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import dev.agentescrow.batcher.chain.ResilientRpc;
import dev.agentescrow.batcher.chain.RpcResilienceConfig;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.Bytes32;
import dev.agentescrow.chain.Erc20Token;
import dev.agentescrow.chain.Signer;
import dev.agentescrow.chain.testing.LocalChain;
import dev.agentescrow.chain.testing.LocalChainExtension;
import dev.agentescrow.chain.vault.SettlementBatch;
import dev.agentescrow.chain.vault.SettlementBatch.Delta;
import dev.agentescrow.chain.vault.SettlementBatch.Payout;
import dev.agentescrow.chain.vault.SettlementBatch.TokenSettlement;
import dev.agentescrow.chain.vault.SettlementVaultGateway;
import dev.agentescrow.chain.vault.TokenLimits;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.math.BigInteger;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The reconciler against a real vault: clean books, a ledger that disagrees, and stray tokens. */
@ExtendWith(LocalChainExtension.class)
class ReconcilerIT {

    @Test
    void reportsCleanBooksAndEveryKindOfMismatchWithoutCorrectingAnything(LocalChain chain) {
        Signer admin = chain.account(LocalChain.ADMIN);
        Signer operator = chain.account(LocalChain.OPERATOR);
        Signer alice = chain.account(3);
        Signer bob = chain.account(4);
        Address carol = chain.account(5).address();
        long deployedAt = chain.client().blockNumber() + 1;
        SettlementVaultGateway vault = SettlementVaultGateway.deploy(chain.client(), admin, admin.address(),
                operator.address(), Duration.ofDays(1));
        Erc20Token token = chain.deployment().token(chain.client());
        vault.listToken(admin, token.address(), TokenLimits.UNLIMITED);
        for (Signer agent : List.of(alice, bob)) {
            token.mint(admin, agent.address(), Amount.of(1_000));
            vault.deposit(agent, token.address(), Amount.of(1_000));
        }
        vault.settleBatch(operator, new SettlementBatch(1, Bytes32.ZERO, List.of(new TokenSettlement(token.address(),
                List.of(new Delta(alice.address(), BigInteger.valueOf(-300)), new Delta(bob.address(),
                        BigInteger.valueOf(300))),
                List.of(new Payout(bob.address(), carol, Amount.of(100)))))));

        Map<Address, BigInteger> books = new HashMap<>(Map.of(
                alice.address(), BigInteger.valueOf(700), bob.address(), BigInteger.valueOf(1_200)));
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        Reconciler reconciler = new Reconciler(chain.client(), vault,
                new ResilientRpc("reconcile", RpcResilienceConfig.defaults()), t -> Map.copyOf(books), deployedAt,
                Clock.systemUTC(), registry);

        ReconciliationReport clean = reconciler.reconcile(List.of(token.address()));
        assertThat(clean.clean()).isTrue();
        // The ledger's side is asked for the block the vault's balances are read at (F6: an event
        // after it would count against balances without it).
        AtomicLong askedAt = new AtomicLong(-1);
        ExpectedBalances pinned = new ExpectedBalances() {
            @Override
            public Map<Address, BigInteger> expectedSettled(Address t) {
                throw new AssertionError("the reconciler asks for its pinned block");
            }

            @Override
            public Map<Address, BigInteger> expectedSettled(Address t, long atBlock) {
                askedAt.set(atBlock);
                return Map.copyOf(books);
            }
        };
        long head = chain.client().blockNumber();
        assertThat(new Reconciler(chain.client(), vault, new ResilientRpc("reconcile", RpcResilienceConfig.defaults()),
                pinned, deployedAt, Clock.systemUTC(), new SimpleMeterRegistry()).check(List.of(token.address())).clean())
                .isTrue();
        assertThat(askedAt).hasValue(head);
        assertThat(clean.tokens()).singleElement().satisfies(report -> {
            assertThat(report.vaultTokenBalance()).isEqualTo(BigInteger.valueOf(1_900));
            assertThat(report.settledSum()).isEqualTo(BigInteger.valueOf(1_900));
            assertThat(report.accountsChecked()).isEqualTo(2);
        });

        // The ledger believes bob holds one unit more; and tokens reach the vault outside any deposit.
        books.put(bob.address(), BigInteger.valueOf(1_201));
        token.mint(admin, vault.address(), Amount.of(5));
        ReconciliationReport dirty = reconciler.reconcile(List.of(token.address()));

        // Stray tokens are a surplus (F6: anyone may send the vault tokens), not a mismatch.
        assertThat(dirty.mismatches()).containsExactlyInAnyOrder(
                new Mismatch.Account(token.address(), bob.address(), BigInteger.valueOf(1_200),
                        BigInteger.valueOf(1_201)));
        assertThat(dirty.tokens().getFirst().surplus()).isEqualTo(BigInteger.valueOf(5));
        assertThat(vault.settledBalance(token.address(), bob.address())).isEqualTo(Amount.of(1_200));
        assertThat(registry.get("reconciliation.mismatches").gauge().value()).isEqualTo(1);
        assertThat(registry.get("reconciliation.runs").tag("result", "clean").counter().count()).isEqualTo(1);
        assertThat(registry.get("reconciliation.runs").tag("result", "mismatch").counter().count()).isEqualTo(1);

        // check() only reads: the same disagreement seen again is neither counted nor logged, so a
        // run that the batcher's guard then discards (it crossed a batch's change of state and saw
        // the batch half-applied) raises no alarm; the discarded run counts as skipped.
        books.put(bob.address(), BigInteger.valueOf(1_300));
        ReconciliationReport unrecorded = reconciler.check(List.of(token.address()));
        assertThat(unrecorded.mismatches()).hasSize(1);
        reconciler.record(ReconciliationReport.skipped(unrecorded.at(), 9));
        assertThat(registry.get("reconciliation.mismatches").gauge().value()).isEqualTo(1);
        assertThat(registry.get("reconciliation.runs").tag("result", "mismatch").counter().count()).isEqualTo(1);
        assertThat(registry.get("reconciliation.runs").tag("result", "skipped").counter().count()).isEqualTo(1);
        books.put(bob.address(), BigInteger.valueOf(1_200));
        reconciler.record(reconciler.check(List.of(token.address())));
        assertThat(registry.get("reconciliation.mismatches").gauge().value()).isZero();
        assertThat(registry.get("reconciliation.runs").tag("result", "clean").counter().count()).isEqualTo(2);
    }

    @Test
    void F6_aDonationIsASurplusAndATransferSettledTwiceIsReported(LocalChain chain) {
        Signer admin = chain.account(LocalChain.ADMIN);
        Signer alice = chain.account(3);
        long deployedAt = chain.client().blockNumber() + 1;
        SettlementVaultGateway vault = SettlementVaultGateway.deploy(chain.client(), admin, admin.address(),
                chain.account(LocalChain.OPERATOR).address(), Duration.ofDays(1));
        Erc20Token token = chain.deployment().token(chain.client());
        vault.listToken(admin, token.address(), TokenLimits.UNLIMITED);
        token.mint(admin, alice.address(), Amount.of(1_000));
        vault.deposit(alice, token.address(), Amount.of(1_000));
        token.mint(admin, vault.address(), Amount.of(1));
        Mismatch twice = new Mismatch.DoubleSettlement(token.address(), "transfer-1", List.of(1L, 2L));
        ExpectedBalances books = new ExpectedBalances() {
            @Override
            public Map<Address, BigInteger> expectedSettled(Address t) {
                return Map.of(alice.address(), BigInteger.valueOf(1_000));
            }

            @Override
            public List<Mismatch> ledgerMismatches(Address t) {
                return List.of(twice);
            }

            @Override
            public long quarantined(Address t) {
                return 3;
            }
        };
        Reconciler reconciler = new Reconciler(chain.client(), vault,
                new ResilientRpc("reconcile", RpcResilienceConfig.defaults()), books, deployedAt, Clock.systemUTC(),
                new SimpleMeterRegistry());
        ReconciliationReport report = reconciler.reconcile(List.of(token.address()));
        assertThat(report.mismatches()).containsExactly(twice);
        assertThat(report.tokens().getFirst().surplus()).isEqualTo(BigInteger.ONE);
        assertThat(report.tokens().getFirst().quarantined()).isEqualTo(3);
    }

    /**
     * A credit past the vault's balance cap becomes a pending payout of the account with no
     * {@code PayoutDeferred} event; it is owed, not a surplus (the reconciler compares with the
     * vault's {@code custody(token)} and reads every account's pending payout). A donation on top is
     * still a surplus and never a mismatch.
     */
    @Test
    void F6_cappedCreditPendingPayoutsAreOwedNotSurplusAndADonationStaysASurplus(LocalChain chain) {
        Signer admin = chain.account(LocalChain.ADMIN);
        Signer operator = chain.account(LocalChain.OPERATOR);
        Signer alice = chain.account(3);
        Signer bob = chain.account(4);
        long deployedAt = chain.client().blockNumber() + 1;
        SettlementVaultGateway vault = SettlementVaultGateway.deploy(chain.client(), admin, admin.address(),
                operator.address(), Duration.ofDays(1));
        Erc20Token token = chain.deployment().token(chain.client());
        vault.listToken(admin, token.address(), TokenLimits.UNLIMITED);
        BigInteger cap = BigInteger.ONE.shiftLeft(85).subtract(BigInteger.ONE);
        token.mint(admin, alice.address(), Amount.of(cap));
        vault.deposit(alice, token.address(), Amount.of(cap));
        token.mint(admin, bob.address(), Amount.of(10));
        vault.deposit(bob, token.address(), Amount.of(10));
        vault.settleBatch(operator, new SettlementBatch(1, Bytes32.ZERO, List.of(new TokenSettlement(token.address(),
                List.of(new Delta(alice.address(), BigInteger.TEN), new Delta(bob.address(), BigInteger.TEN.negate())),
                List.of()))));
        assertThat(vault.settledBalance(token.address(), alice.address())).isEqualTo(Amount.of(cap));
        assertThat(vault.pendingPayout(token.address(), alice.address())).isEqualTo(Amount.of(10));

        Reconciler reconciler = new Reconciler(chain.client(), vault,
                new ResilientRpc("reconcile", RpcResilienceConfig.defaults()),
                t -> Map.of(alice.address(), cap), deployedAt, Clock.systemUTC(), new SimpleMeterRegistry());
        ReconciliationReport capped = reconciler.reconcile(List.of(token.address()));
        assertThat(capped.clean()).isTrue();
        assertThat(capped.tokens()).singleElement().satisfies(report -> {
            assertThat(report.custody()).isEqualTo(cap.add(BigInteger.TEN));
            assertThat(report.pendingPayoutSum()).isEqualTo(BigInteger.TEN);
            assertThat(report.surplus()).isZero();
        });

        token.mint(admin, vault.address(), Amount.of(7));
        ReconciliationReport donated = reconciler.reconcile(List.of(token.address()));
        assertThat(donated.clean()).isTrue();
        assertThat(donated.tokens().getFirst().surplus()).isEqualTo(BigInteger.valueOf(7));
        assertThat(donated.tokens().getFirst().custody()).isEqualTo(cap.add(BigInteger.TEN));
    }
}
