package dev.agentescrow.chain.channel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.Bytes32;
import dev.agentescrow.chain.Calls;
import dev.agentescrow.chain.ContractRevertedException;
import dev.agentescrow.chain.Erc20Token;
import dev.agentescrow.chain.Receipt;
import dev.agentescrow.chain.Signer;
import dev.agentescrow.chain.testing.LocalChain;
import dev.agentescrow.chain.testing.LocalChainExtension;
import dev.agentescrow.chain.wrappers.HostileToken;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(LocalChainExtension.class)
class PaymentChannelsIT {
    private static final Duration MIN_PERIOD = Duration.ofMinutes(10);
    private static final Duration PERIOD = Duration.ofMinutes(15);
    private static final Amount START = Amount.of(1_000_000);
    private static final Instant NEVER = Instant.ofEpochSecond(4_000_000_000L);

    /** A fresh token and contract, alice and bob funded, a channel alice -> bob with 1,000 + 500, accepted. */
    private record Setup(Erc20Token token, PaymentChannelsGateway channels, Signer alice, Signer bob, Signer relayer,
                         Bytes32 channelId, Receipt opened) {
    }

    private static Setup setup(LocalChain chain) {
        Signer owner = chain.account(0);
        Signer alice = chain.account(1);
        Signer bob = chain.account(2);
        Erc20Token token = Erc20Token.deployTestToken(chain.client(), owner, "Test USD", "TUSD", 6);
        token.mint(owner, alice.address(), START);
        token.mint(owner, bob.address(), START);
        PaymentChannelsGateway channels = PaymentChannelsGateway.deploy(chain.client(), owner, MIN_PERIOD);
        assertThat(channels.minChallengePeriod()).isEqualTo(MIN_PERIOD);
        Bytes32 expectedId = channels.nextChannelId(alice.address(), bob.address(), token.address());
        OpenedChannel opened = channels.open(alice, bob.address(), token, Amount.of(1_000), PERIOD);
        assertThat(opened.channelId()).isEqualTo(expectedId);
        assertThat(channels.channel(expectedId).state()).isEqualTo(ChannelState.PENDING);
        channels.accept(bob, opened.channelId(), Amount.of(500));
        return new Setup(token, channels, alice, bob, chain.account(3), opened.channelId(), opened.receipt());
    }

    @Test
    void opensAcceptsAndClosesCooperativelyWithSignaturesMadeInJava(LocalChain chain) {
        Setup s = setup(chain);
        PaymentChannel open = s.channels().channel(s.channelId());
        assertThat(open.state()).isEqualTo(ChannelState.OPEN);
        assertThat(open.a().account()).isEqualTo(s.alice().address());
        assertThat(open.a().signingKey()).isEqualTo(s.alice().address());
        assertThat(open.b().account()).isEqualTo(s.bob().address());
        assertThat(open.b().signingKey()).isEqualTo(s.bob().address());
        assertThat(open.token()).isEqualTo(s.token().address());
        assertThat(open.challengePeriod()).isEqualTo(PERIOD);
        assertThat(open.closesAt()).isEmpty();
        assertThat(open.funds()).isEqualTo(Amount.of(1_500));

        ChannelTypedDataSigner signer = s.channels().typedDataSigner();
        CooperativeClose close = new CooperativeClose(s.channelId(), Amount.of(400), Amount.of(1_100), NEVER);
        Receipt closed = s.channels().cooperativeClose(s.relayer(), close,
                signer.sign(close, s.alice().credentials()), signer.sign(close, s.bob().credentials()));

        assertThat(s.token().balanceOf(s.alice().address())).isEqualTo(Amount.of(1_000_000 - 1_000 + 400));
        assertThat(s.token().balanceOf(s.bob().address())).isEqualTo(Amount.of(1_000_000 - 500 + 1_100));
        assertThat(s.token().balanceOf(s.channels().address())).isEqualTo(Amount.ZERO);
        assertThat(s.channels().channel(s.channelId()).state()).isEqualTo(ChannelState.SETTLED);

        List<ChannelEvent> events = s.channels().events(s.opened().blockNumber(), closed.blockNumber());
        assertThat(events).extracting(e -> e.getClass().getSimpleName())
                .containsExactly("Opened", "Accepted", "Settled", "PaidOut", "PaidOut");
        assertThat(events.get(0)).isInstanceOfSatisfying(ChannelEvent.Opened.class, e -> {
            assertThat(e.channelId()).isEqualTo(s.channelId());
            assertThat(e.signingKeyA()).isEqualTo(s.alice().address());
            assertThat(e.depositA()).isEqualTo(Amount.of(1_000));
            assertThat(e.challengePeriod()).isEqualTo(PERIOD);
            assertThat(e.position().txHash()).isEqualTo(s.opened().txHash());
        });
        assertThat(events.get(1)).isInstanceOfSatisfying(ChannelEvent.Accepted.class,
                e -> assertThat(e.depositB()).isEqualTo(Amount.of(500)));
        assertThat(events.get(2)).isEqualTo(new ChannelEvent.Settled(s.channelId(), Amount.of(400), Amount.of(1_100),
                true, events.get(2).position()));
    }

    @Test
    void aWatchtowerSubmitsTheNewestProofAndTheSettlementPaysRunningTotals(LocalChain chain) {
        Setup s = setup(chain);
        ChannelTypedDataSigner signer = s.channels().typedDataSigner();
        BalanceProof aliceOld = new BalanceProof(s.channelId(), ChannelNonce.of(1), Amount.of(100));
        BalanceProof aliceNew = new BalanceProof(s.channelId(), ChannelNonce.of(2), Amount.of(600));
        BalanceProof bobsProof = new BalanceProof(s.channelId(), ChannelNonce.of(1), Amount.of(50));
        assertThat(s.channels().balanceProofDigest(aliceNew)).isEqualTo(signer.digest(aliceNew));

        // alice, who paid bob 600, deposits 1 and closes with bob's proof; bob is offline
        s.channels().deposit(s.alice(), s.channelId(), Amount.of(1));
        Receipt closed = s.channels().close(s.alice(), bobsProof, signer.sign(bobsProof, s.bob().credentials()));
        PaymentChannel closing = s.channels().channel(s.channelId());
        assertThat(closing.state()).isEqualTo(ChannelState.CLOSING);
        assertThat(closing.closesAt()).contains(Instant.ofEpochSecond(chain.latestTimestamp()).plus(PERIOD));

        // a watchtower (relayer) submits alice's newest proof; an older one is stale afterwards
        s.channels().updateBalanceProof(s.relayer(), s.alice().address(), aliceNew,
                signer.sign(aliceNew, s.alice().credentials()));
        assertThatThrownBy(() -> s.channels().updateBalanceProof(s.relayer(), s.alice().address(), aliceOld,
                signer.sign(aliceOld, s.alice().credentials())))
                .isInstanceOfSatisfying(ContractRevertedException.class,
                        e -> assertThat(e.errorName()).contains("ChannelStaleProof"));
        assertThatThrownBy(() -> s.channels().settle(s.relayer(), s.channelId()))
                .isInstanceOfSatisfying(ContractRevertedException.class,
                        e -> assertThat(e.errorName()).contains("ChannelChallengePeriodActive"));
        // alice: 1,001 - 600 + 50 = 451; bob: 500 - 50 + 600 = 1,050
        assertThat(s.channels().payouts(s.channelId())).containsExactly(Amount.of(451), Amount.of(1_050));

        chain.increaseTime(PERIOD.toSeconds());
        Receipt settled = s.channels().settle(s.relayer(), s.channelId());
        assertThat(s.token().balanceOf(s.alice().address())).isEqualTo(Amount.of(1_000_000 - 1_001 + 451));
        assertThat(s.token().balanceOf(s.bob().address())).isEqualTo(Amount.of(1_000_000 - 500 + 1_050));
        assertThat(s.token().balanceOf(s.channels().address())).isEqualTo(Amount.ZERO);

        List<ChannelEvent> events = s.channels().events(closed.blockNumber(), settled.blockNumber());
        assertThat(events).extracting(e -> e.getClass().getSimpleName())
                .containsExactly("Closed", "BalanceProofUpdated", "Settled", "PaidOut", "PaidOut");
        assertThat(events.get(1)).isEqualTo(new ChannelEvent.BalanceProofUpdated(s.channelId(),
                s.alice().address(), s.relayer().address(), ChannelNonce.of(2), Amount.of(600),
                events.get(1).position()));
    }

    @Test
    void withdrawsRunningTotalsWithBothSignaturesAndNeverPaysAReplacementTwice(LocalChain chain) {
        Setup s = setup(chain);
        ChannelTypedDataSigner signer = s.channels().typedDataSigner();
        Withdrawal first = new Withdrawal(s.channelId(), s.bob().address(), Amount.of(300),
                Instant.ofEpochSecond(chain.latestTimestamp() + 3_600));
        Withdrawal replacement = new Withdrawal(s.channelId(), s.bob().address(), Amount.of(350), first.expiry());
        ChannelSignature firstA = signer.sign(first, s.alice().credentials());
        ChannelSignature firstB = signer.sign(first, s.bob().credentials());

        s.channels().withdraw(s.relayer(), first, firstA, firstB);
        s.channels().withdraw(s.relayer(), replacement, signer.sign(replacement, s.alice().credentials()),
                signer.sign(replacement, s.bob().credentials()));
        assertThat(s.token().balanceOf(s.bob().address())).isEqualTo(Amount.of(1_000_000 - 500 + 350));
        PaymentChannel channel = s.channels().channel(s.channelId());
        assertThat(channel.b().withdrawn()).isEqualTo(Amount.of(350));
        assertThat(channel.funds()).isEqualTo(Amount.of(1_150));

        assertThatThrownBy(() -> s.channels().withdraw(s.relayer(), first, firstA, firstB))
                .isInstanceOfSatisfying(ContractRevertedException.class,
                        e -> assertThat(e.errorName()).contains("ChannelStaleWithdrawal"));
        Withdrawal forged = new Withdrawal(s.channelId(), s.bob().address(), Amount.of(400), first.expiry());
        assertThatThrownBy(() -> s.channels().withdraw(s.relayer(), forged,
                signer.sign(forged, s.bob().credentials()), signer.sign(forged, s.bob().credentials())))
                .isInstanceOfSatisfying(ContractRevertedException.class,
                        e -> assertThat(e.errorName()).contains("ChannelInvalidSignature"));
        assertThat(s.channels().channel(Bytes32.ZERO).state()).isEqualTo(ChannelState.NONE);
        assertThat(s.channels().channel(Bytes32.ZERO).a().account()).isEqualTo(Address.ZERO);
    }

    @Test
    void aPayoutTheTokenRefusesStaysClaimableAndDoesNotBlockTheOtherSide(LocalChain chain) {
        Signer owner = chain.account(0);
        Signer alice = chain.account(1);
        Signer bob = chain.account(2);
        Address carol = chain.account(4).address();
        HostileToken hostile = Calls.send(() -> HostileToken.deploy(chain.client().web3j(),
                owner.transactionManager(), owner.gasProvider()).send());
        Erc20Token token = new Erc20Token(chain.client(), Address.of(hostile.getContractAddress()));
        Calls.send(() -> hostile.mint(alice.address().hex(), BigInteger.valueOf(1_000)).send());
        PaymentChannelsGateway channels = PaymentChannelsGateway.deploy(chain.client(), owner, MIN_PERIOD);
        Bytes32 id = channels.open(alice, bob.address(), token, Amount.of(1_000), PERIOD).channelId();
        channels.accept(bob, id, Amount.ZERO);
        ChannelTypedDataSigner signer = channels.typedDataSigner();
        CooperativeClose close = new CooperativeClose(id, Amount.of(600), Amount.of(400), NEVER);
        Calls.send(() -> hostile.setFailMode(alice.address().hex(), BigInteger.ONE).send()); // alice blocklisted

        Receipt closed = channels.cooperativeClose(bob, close, signer.sign(close, alice.credentials()),
                signer.sign(close, bob.credentials()));
        assertThat(token.balanceOf(bob.address())).isEqualTo(Amount.of(400));
        assertThat(channels.channel(id).a().unclaimed()).isEqualTo(Amount.of(600));
        assertThat(channels.events(closed.blockNumber(), closed.blockNumber()))
                .anySatisfy(e -> assertThat(e).isEqualTo(new ChannelEvent.PayoutRefused(id, alice.address(),
                        Amount.of(600), e.position())));

        channels.claim(alice, id, carol);
        assertThat(token.balanceOf(carol)).isEqualTo(Amount.of(600));
        assertThat(channels.channel(id).a().unclaimed()).isEqualTo(Amount.ZERO);
        assertThatThrownBy(() -> channels.claim(alice, id, carol))
                .isInstanceOfSatisfying(ContractRevertedException.class,
                        e -> assertThat(e.errorName()).contains("ChannelNothingToClaim"));
    }

    @Test
    void opensWithAPermitSignedInJavaAndNoApproval(LocalChain chain) {
        Signer owner = chain.account(0);
        Signer alice = chain.account(1);
        Address bob = chain.account(2).address();
        Erc20Token token = Erc20Token.deployTestToken(chain.client(), owner, "Test USD", "TUSD", 6);
        token.mint(owner, alice.address(), START);
        PaymentChannelsGateway channels = PaymentChannelsGateway.deploy(chain.client(), owner, MIN_PERIOD);
        Bytes32 expectedId = channels.nextChannelId(alice.address(), bob, token.address());
        assertThat(token.allowance(alice.address(), channels.address())).isEqualTo(Amount.ZERO);

        OpenedChannel opened = channels.openWithPermit(alice, bob, token, Amount.of(1_000), PERIOD,
                Instant.ofEpochSecond(chain.latestTimestamp() + 3_600));

        assertThat(opened.channelId()).isEqualTo(expectedId);
        assertThat(token.balanceOf(channels.address())).isEqualTo(Amount.of(1_000));
        assertThat(token.allowance(alice.address(), channels.address())).isEqualTo(Amount.ZERO);
        PaymentChannel channel = channels.channel(opened.channelId());
        assertThat(channel.state()).isEqualTo(ChannelState.PENDING);
        assertThat(channel.a().deposit()).isEqualTo(Amount.of(1_000));
        assertThat(channel.b().account()).isEqualTo(bob);
        assertThat(channel.b().signingKey()).isEqualTo(Address.ZERO);
        long block = opened.receipt().blockNumber();
        assertThat(channels.events(block, block)).singleElement().isInstanceOfSatisfying(ChannelEvent.Opened.class,
                e -> assertThat(e).isEqualTo(new ChannelEvent.Opened(opened.channelId(), alice.address(), bob,
                        token.address(), alice.address(), Amount.of(1_000), PERIOD, e.position())));
        // bob never accepts: alice takes her deposit back at once
        channels.closeWithoutProof(alice, opened.channelId());
        assertThat(token.balanceOf(alice.address())).isEqualTo(START);
        assertThat(channels.channel(opened.channelId()).state()).isEqualTo(ChannelState.SETTLED);
    }
}
