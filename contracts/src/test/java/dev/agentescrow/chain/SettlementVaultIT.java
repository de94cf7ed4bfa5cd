package dev.agentescrow.chain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import dev.agentescrow.chain.testing.LocalChain;
import dev.agentescrow.chain.testing.LocalChainExtension;
import dev.agentescrow.chain.vault.BatchSettled;
import dev.agentescrow.chain.vault.EscapeWithdrawal;
import dev.agentescrow.chain.vault.SettlementBatch;
import dev.agentescrow.chain.vault.SettlementBatch.Delta;
import dev.agentescrow.chain.vault.SettlementBatch.Payout;
import dev.agentescrow.chain.vault.SettlementBatch.TokenSettlement;
import dev.agentescrow.chain.vault.ForcedWithdrawalRequest;
import dev.agentescrow.chain.vault.ForcedWithdrawalServed;
import dev.agentescrow.chain.vault.SettlementVaultGateway;
import dev.agentescrow.chain.vault.TokenLimits;
import dev.agentescrow.chain.vault.VaultFrozen;
import dev.agentescrow.chain.vault.VaultDeposit;
import dev.agentescrow.chain.vault.VaultPayout;
import dev.agentescrow.chain.wrappers.HostileToken;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(LocalChainExtension.class)
class SettlementVaultIT {
    private static final Duration ESCAPE_DELAY = Duration.ofHours(1);
    private static final Bytes32 ROOT = Bytes32.fromHex("0x" + "ab".repeat(32));

    private record Setup(Signer admin, Signer operator, Signer alice, Signer bob, Erc20Token token,
                         SettlementVaultGateway vault) {
    }

    private static Setup setup(LocalChain chain) {
        Signer admin = chain.account(0);
        Signer operator = chain.account(1);
        Signer alice = chain.account(2);
        Signer bob = chain.account(3);
        Erc20Token token = Erc20Token.deployTestToken(chain.client(), admin, "Test USD", "TUSD", 6);
        token.mint(admin, alice.address(), Amount.tokens(1_000, 6));
        token.mint(admin, bob.address(), Amount.tokens(500, 6));
        SettlementVaultGateway vault = SettlementVaultGateway.deploy(chain.client(), admin, admin.address(),
                operator.address(), ESCAPE_DELAY);
        vault.listToken(admin, token.address(), TokenLimits.UNLIMITED);
        return new Setup(admin, operator, alice, bob, token, vault);
    }

    @Test
    void depositsThenANettedBatchWithAPayoutSettles(LocalChain chain) {
        Setup s = setup(chain);
        Address carol = chain.account(4).address();
        Amount carolBefore = s.token().balanceOf(carol);
        long fromBlock = chain.client().blockNumber() + 1;

        Receipt aliceDeposit = s.vault().deposit(s.alice(), s.token().address(), Amount.tokens(1_000, 6));
        Receipt bobDeposit = s.vault().deposit(s.bob(), s.token().address(), Amount.tokens(500, 6));

        List<VaultDeposit> deposits = s.vault().depositsBetween(fromBlock, chain.client().blockNumber());
        assertThat(deposits).hasSize(2);
        assertThat(deposits.get(0)).satisfies(d -> {
            assertThat(d.token()).isEqualTo(s.token().address());
            assertThat(d.account()).isEqualTo(s.alice().address());
            assertThat(d.accountId()).isEqualTo(1);
            assertThat(d.amount()).isEqualTo(Amount.tokens(1_000, 6));
            assertThat(d.position().txHash()).isEqualTo(aliceDeposit.txHash());
            assertThat(d.position().blockNumber()).isEqualTo(aliceDeposit.blockNumber());
            assertThat(d.position().logIndex()).isNotNegative();
        });
        assertThat(deposits.get(1).account()).isEqualTo(s.bob().address());
        assertThat(deposits.get(1).position().txHash()).isEqualTo(bobDeposit.txHash());

        // alice paid bob 300 net; bob withdraws 200 to carol
        SettlementBatch batch = new SettlementBatch(1, ROOT, List.of(new TokenSettlement(s.token().address(),
                List.of(new Delta(s.alice().address(), BigInteger.valueOf(-300_000_000)),
                        new Delta(s.bob().address(), BigInteger.valueOf(300_000_000))),
                List.of(new Payout(s.bob().address(), carol, Amount.tokens(200, 6))))));
        Receipt settled = s.vault().settleBatch(s.operator(), batch);

        assertThat(settled.gasUsed()).isPositive();
        assertThat(s.vault().settledBalance(s.token().address(), s.alice().address())).isEqualTo(Amount.tokens(700, 6));
        assertThat(s.vault().settledBalance(s.token().address(), s.bob().address())).isEqualTo(Amount.tokens(600, 6));
        assertThat(s.token().balanceOf(carol)).isEqualTo(carolBefore.plus(Amount.tokens(200, 6)));
        assertThat(s.token().balanceOf(s.vault().address())).isEqualTo(Amount.tokens(1_300, 6));
        assertThat(s.vault().lastBatchId()).isEqualTo(1);
        assertThat(s.vault().batchesSettledBetween(fromBlock, chain.client().blockNumber()))
                .containsExactly(new BatchSettled(1, ROOT, 3, new LogPosition(settled.txHash(), settled.blockNumber(),
                        s.vault().batchesSettledBetween(settled.blockNumber(), settled.blockNumber()).get(0).position()
                                .logIndex(), chain.client().blockHash(settled.blockNumber()))));

        assertThat(s.vault().payoutsBetween(settled.blockNumber(), settled.blockNumber())).singleElement()
                .satisfies(p -> {
                    assertThat(p.batchId()).isEqualTo(1);
                    assertThat(p.token()).isEqualTo(s.token().address());
                    assertThat(p.recipient()).isEqualTo(carol);
                    assertThat(p.accountId()).isEqualTo(2);
                    assertThat(p.amount()).isEqualTo(Amount.tokens(200, 6));
                    assertThat(p.outcome()).isEqualTo(VaultPayout.Outcome.SENT);
                    assertThat(p.position().txHash()).isEqualTo(settled.txHash());
                });

        assertThatThrownBy(() -> s.vault().settleBatch(s.operator(), batch))
                .isInstanceOfSatisfying(ContractRevertedException.class,
                        e -> assertThat(e.errorName()).contains("VaultBatchIdMismatch"));
        assertThat(s.vault().lastBatchId()).isEqualTo(1);
        assertThat(s.vault().settledBalance(s.token().address(), s.bob().address())).isEqualTo(Amount.tokens(600, 6));
    }

    @Test
    void aPayoutTheTokenRefusesStaysClaimable(LocalChain chain) {
        Setup s = setup(chain);
        Signer carol = chain.account(5);
        Address dave = chain.account(6).address();
        HostileToken hostile = Calls.send(() -> HostileToken.deploy(chain.client().web3j(),
                s.admin().transactionManager(), s.admin().gasProvider()).send());
        Address hostileAddress = Address.of(hostile.getContractAddress());
        s.vault().listToken(s.admin(), hostileAddress, TokenLimits.UNLIMITED);
        Calls.send(() -> hostile.mint(s.alice().address().hex(), BigInteger.valueOf(1_000)).send());
        Calls.send(() -> hostile.setFailMode(carol.address().hex(), BigInteger.ONE).send());
        s.vault().deposit(s.alice(), hostileAddress, Amount.of(1_000));

        Receipt settled = s.vault().settleBatch(s.operator(), new SettlementBatch(1, ROOT, List.of(
                new TokenSettlement(hostileAddress, List.of(),
                        List.of(new Payout(s.alice().address(), carol.address(), Amount.of(400)))))));

        assertThat(s.vault().payoutsBetween(settled.blockNumber(), settled.blockNumber()))
                .extracting(VaultPayout::outcome).containsExactly(VaultPayout.Outcome.DEFERRED);
        assertThat(s.vault().pendingPayout(hostileAddress, carol.address())).isEqualTo(Amount.of(400));
        assertThat(s.vault().settledBalance(hostileAddress, s.alice().address())).isEqualTo(Amount.of(600));

        s.vault().claimPayout(carol, hostileAddress, dave);

        Erc20Token token = new Erc20Token(chain.client(), hostileAddress);
        assertThat(token.balanceOf(dave)).isEqualTo(Amount.of(400));
        assertThat(s.vault().pendingPayout(hostileAddress, carol.address())).isEqualTo(Amount.ZERO);
        assertThat(token.balanceOf(s.vault().address())).isEqualTo(Amount.of(600));
    }

    @Test
    void depositWithPermitNeedsNoApproval(LocalChain chain) {
        Setup s = setup(chain);
        Instant deadline = Instant.ofEpochSecond(chain.latestTimestamp()).plus(Duration.ofHours(1));

        Receipt receipt = s.vault().depositWithPermit(s.alice(), s.token().address(), Amount.tokens(250, 6), deadline);

        assertThat(receipt.gasUsed()).isPositive();
        assertThat(s.vault().settledBalance(s.token().address(), s.alice().address())).isEqualTo(Amount.tokens(250, 6));
        assertThat(s.token().balanceOf(s.vault().address())).isEqualTo(Amount.tokens(250, 6));
        assertThat(s.token().allowance(s.alice().address(), s.vault().address())).isEqualTo(Amount.ZERO);
    }

    @Test
    void escapeHatchOpensAfterTheDelayWithoutBatches(LocalChain chain) {
        Setup s = setup(chain);
        s.vault().deposit(s.alice(), s.token().address(), Amount.tokens(1_000, 6));

        assertThatThrownBy(() -> s.vault().escapeWithdraw(s.alice(), s.token().address()))
                .isInstanceOfSatisfying(ContractRevertedException.class,
                        e -> assertThat(e.errorName()).contains("VaultEscapeNotOpen"));

        chain.increaseTime(ESCAPE_DELAY.toSeconds());
        s.vault().pause(s.admin());
        Receipt receipt = s.vault().escapeWithdraw(s.alice(), s.token().address());

        assertThat(receipt.gasUsed()).isPositive();
        assertThat(s.vault().paused()).isTrue();
        assertThat(s.vault().frozen()).isTrue();
        assertThat(s.vault().frozenBetween(receipt.blockNumber(), receipt.blockNumber()))
                .extracting(VaultFrozen::by).containsExactly(s.alice().address());
        assertThat(s.vault().escapeWithdrawalsBetween(receipt.blockNumber(), receipt.blockNumber()))
                .extracting(EscapeWithdrawal::account, EscapeWithdrawal::amount, w -> w.position().txHash())
                .containsExactly(tuple(s.alice().address(), Amount.tokens(1_000, 6),
                        receipt.txHash()));
        assertThat(s.vault().settledBalance(s.token().address(), s.alice().address())).isEqualTo(Amount.ZERO);
        assertThat(s.token().balanceOf(s.alice().address())).isEqualTo(Amount.tokens(1_000, 6));
        assertThat(s.token().balanceOf(s.vault().address())).isEqualTo(Amount.ZERO);
    }

    @Test
    void aForcedWithdrawalIsServedByABatchAndAnOverdueOneFreezesTheVault(LocalChain chain) {
        Setup s = setup(chain);
        Address token = s.token().address();
        s.vault().deposit(s.alice(), token, Amount.tokens(1_000, 6));
        s.vault().deposit(s.bob(), token, Amount.tokens(500, 6));

        Receipt requested = s.vault().requestForcedWithdrawal(s.alice(), token, Amount.tokens(100, 6));
        ForcedWithdrawalRequest request = s.vault()
                .forcedWithdrawalRequestsBetween(requested.blockNumber(), requested.blockNumber()).getFirst();
        assertThat(request.account()).isEqualTo(s.alice().address());
        assertThat(request.amount()).isEqualTo(Amount.tokens(100, 6));
        assertThat(request.deadline()).isEqualTo(Instant.ofEpochSecond(chain.latestTimestamp()).plus(ESCAPE_DELAY));
        assertThat(s.vault().forcedWithdrawal(token, s.alice().address())).isPresent();

        Receipt served = s.vault().settleBatch(s.operator(), new SettlementBatch(1, ROOT, List.of(new TokenSettlement(
                token, List.of(), List.of(Payout.servingForcedWithdrawal(s.alice().address(), Amount.tokens(100, 6)))))));
        assertThat(s.vault().forcedWithdrawalsServedBetween(served.blockNumber(), served.blockNumber()))
                .extracting(ForcedWithdrawalServed::account, ForcedWithdrawalServed::paid)
                .containsExactly(tuple(s.alice().address(), Amount.tokens(100, 6)));
        assertThat(s.vault().forcedWithdrawal(token, s.alice().address())).isEmpty();
        assertThat(s.vault().settledBalance(token, s.alice().address())).isEqualTo(Amount.tokens(900, 6));

        s.vault().requestForcedWithdrawal(s.bob(), token, Amount.tokens(50, 6));
        chain.increaseTime(ESCAPE_DELAY.toSeconds() + 1);
        s.vault().freeze(s.alice(), token, s.bob().address());
        assertThat(s.vault().frozen()).isTrue();
        assertThatThrownBy(() -> s.vault().settleBatch(s.operator(), new SettlementBatch(2, ROOT, List.of())))
                .isInstanceOfSatisfying(ContractRevertedException.class,
                        e -> assertThat(e.errorName()).contains("VaultFrozen"));
        s.vault().escapeWithdraw(s.bob(), token);
        assertThat(s.vault().settledBalance(token, s.bob().address())).isEqualTo(Amount.ZERO);
        assertThat(s.vault().custody(token)).isEqualTo(Amount.tokens(900, 6));
    }
}
