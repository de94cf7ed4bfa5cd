package dev.agentescrow.chain.channel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.Bytes32;
import dev.agentescrow.chain.ContractRevertedException;
import dev.agentescrow.chain.Erc20Token;
import dev.agentescrow.chain.Receipt;
import dev.agentescrow.chain.Signer;
import dev.agentescrow.chain.testing.LocalChain;
import dev.agentescrow.chain.testing.LocalChainExtension;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(LocalChainExtension.class)
class PaymentChannelsIT {
    private static final Duration PERIOD = Duration.ofMinutes(10);
    private static final Amount START = Amount.of(1_000_000);

    /** A fresh token and contract, alice and bob funded, a channel alice -> bob with 1,000 + 500. */
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
        PaymentChannelsGateway channels = PaymentChannelsGateway.deploy(chain.client(), owner);
        Bytes32 expectedId = channels.nextChannelId(alice.address(), bob.address(), token.address());
        OpenedChannel opened = channels.open(alice, bob.address(), token, Amount.of(1_000), PERIOD);
        assertThat(opened.channelId()).isEqualTo(expectedId);
        channels.deposit(bob, opened.channelId(), Amount.of(500));
        return new Setup(token, channels, alice, bob, chain.account(3), opened.channelId(), opened.receipt());
    }

    @Test
    void opensAndClosesCooperativelyWithSignaturesMadeInJava(LocalChain chain) {
        Setup s = setup(chain);
        PaymentChannel open = s.channels().channel(s.channelId());
        assertThat(open.state()).isEqualTo(ChannelState.OPEN);
        assertThat(open.participantA()).isEqualTo(s.alice().address());
        assertThat(open.participantB()).isEqualTo(s.bob().address());
        assertThat(open.token()).isEqualTo(s.token().address());
        assertThat(open.challengePeriod()).isEqualTo(PERIOD);
        assertThat(open.closesAt()).isEmpty();
        assertThat(open.funds()).isEqualTo(Amount.of(1_500));
        assertThat(s.token().balanceOf(s.channels().address())).isEqualTo(Amount.of(1_500));

        ChannelTypedDataSigner signer = s.channels().typedDataSigner();
        CooperativeClose close = new CooperativeClose(s.channelId(), ChannelNonce.of(1), Amount.of(400),
                Amount.of(1_100));
        Receipt closed = s.channels().cooperativeClose(s.relayer(), close,
                signer.sign(close, s.alice().credentials()), signer.sign(close, s.bob().credentials()));

        assertThat(s.token().balanceOf(s.alice().address())).isEqualTo(Amount.of(1_000_000 - 1_000 + 400));
        assertThat(s.token().balanceOf(s.bob().address())).isEqualTo(Amount.of(1_000_000 - 500 + 1_100));
        assertThat(s.token().balanceOf(s.channels().address())).isEqualTo(Amount.ZERO);
        assertThat(s.channels().channel(s.channelId()).state()).isEqualTo(ChannelState.SETTLED);

        List<ChannelEvent> events = s.channels().events(s.opened().blockNumber(), closed.blockNumber());
        assertThat(events).hasSize(3);
        assertThat(events.get(0)).isInstanceOfSatisfying(ChannelEvent.Opened.class, e -> {
            assertThat(e.channelId()).isEqualTo(s.channelId());
            assertThat(e.participantA()).isEqualTo(s.alice().address());
            assertThat(e.depositA()).isEqualTo(Amount.of(1_000));
            assertThat(e.challengePeriod()).isEqualTo(PERIOD);
            assertThat(e.position().txHash()).isEqualTo(s.opened().txHash());
        });
        assertThat(events.get(1)).isInstanceOfSatisfying(ChannelEvent.Deposited.class,
                e -> assertThat(e.totalDeposit()).isEqualTo(Amount.of(500)));
        assertThat(events.get(2)).isEqualTo(new ChannelEvent.Settled(s.channelId(), Amount.of(400), Amount.of(1_100),
                true, events.get(2).position()));
    }

    @Test
    void aNewerProofWinsTheChallengeAndSettlesAfterTheWindow(LocalChain chain) {
        Setup s = setup(chain);
        ChannelTypedDataSigner signer = s.channels().typedDataSigner();
        BalanceProof older = new BalanceProof(s.channelId(), ChannelNonce.of(1), Amount.of(1_300), Amount.of(200));
        BalanceProof newer = new BalanceProof(s.channelId(), ChannelNonce.of(2), Amount.of(250), Amount.of(1_250));
        assertThat(s.channels().balanceProofDigest(newer)).isEqualTo(signer.digest(newer));

        // alice closes with the older proof, which favours her and which bob signed
        Receipt closed = s.channels().closeUnilaterally(s.alice(), older, signer.sign(older, s.bob().credentials()));
        PaymentChannel closing = s.channels().channel(s.channelId());
        assertThat(closing.state()).isEqualTo(ChannelState.CLOSING);
        assertThat(closing.closingNonce()).isEqualTo(ChannelNonce.of(1));
        assertThat(closing.closesAt()).contains(Instant.ofEpochSecond(chain.latestTimestamp()).plus(PERIOD));

        // bob answers with the newer proof alice signed
        s.channels().challenge(s.bob(), newer, signer.sign(newer, s.alice().credentials()));
        assertThat(s.channels().channel(s.channelId()).closingBalanceA()).isEqualTo(Amount.of(250));

        assertThatThrownBy(() -> s.channels().settle(s.relayer(), s.channelId()))
                .isInstanceOfSatisfying(ContractRevertedException.class,
                        e -> assertThat(e.errorName()).contains("ChannelChallengePeriodActive"));
        assertThatThrownBy(() -> s.channels().challenge(s.bob(), older, signer.sign(older, s.alice().credentials())))
                .isInstanceOfSatisfying(ContractRevertedException.class,
                        e -> assertThat(e.errorName()).contains("ChannelStaleNonce"));

        chain.increaseTime(PERIOD.toSeconds());
        Receipt settled = s.channels().settle(s.relayer(), s.channelId());
        assertThat(s.token().balanceOf(s.alice().address())).isEqualTo(Amount.of(1_000_000 - 1_000 + 250));
        assertThat(s.token().balanceOf(s.bob().address())).isEqualTo(Amount.of(1_000_000 - 500 + 1_250));
        assertThat(s.token().balanceOf(s.channels().address())).isEqualTo(Amount.ZERO);
        assertThat(s.channels().channel(s.channelId()).state()).isEqualTo(ChannelState.SETTLED);

        List<ChannelEvent> events = s.channels().events(closed.blockNumber(), settled.blockNumber());
        assertThat(events).extracting(e -> e.getClass().getSimpleName())
                .containsExactly("Closed", "Challenged", "Settled");
        assertThat(events.getLast()).isInstanceOfSatisfying(ChannelEvent.Settled.class, e -> {
            assertThat(e.payoutA()).isEqualTo(Amount.of(250));
            assertThat(e.payoutB()).isEqualTo(Amount.of(1_250));
            assertThat(e.cooperative()).isFalse();
        });
    }

    @Test
    void withdrawsWithBothSignaturesAndClosesWithoutProofOnlyBeforeThat(LocalChain chain) {
        Setup s = setup(chain);
        ChannelTypedDataSigner signer = s.channels().typedDataSigner();
        Withdrawal withdrawal = new Withdrawal(s.channelId(), s.bob().address(), Amount.of(300), ChannelNonce.of(3),
                Instant.ofEpochSecond(chain.latestTimestamp() + 3_600));
        ChannelSignature byAlice = signer.sign(withdrawal, s.alice().credentials());
        ChannelSignature byBob = signer.sign(withdrawal, s.bob().credentials());

        s.channels().withdraw(s.relayer(), withdrawal, byAlice, byBob);
        assertThat(s.token().balanceOf(s.bob().address())).isEqualTo(Amount.of(1_000_000 - 500 + 300));
        assertThat(s.token().balanceOf(s.channels().address())).isEqualTo(Amount.of(1_200));
        PaymentChannel channel = s.channels().channel(s.channelId());
        assertThat(channel.withdrawn()).isEqualTo(Amount.of(300));
        assertThat(channel.nonceFloor()).isEqualTo(ChannelNonce.of(3));
        assertThat(channel.funds()).isEqualTo(Amount.of(1_200));

        assertThatThrownBy(() -> s.channels().withdraw(s.relayer(), withdrawal, byAlice, byBob))
                .isInstanceOfSatisfying(ContractRevertedException.class,
                        e -> assertThat(e.errorName()).contains("ChannelStaleNonce"));
        assertThatThrownBy(() -> s.channels().closeWithoutProof(s.alice(), s.channelId()))
                .isInstanceOfSatisfying(ContractRevertedException.class,
                        e -> assertThat(e.errorName()).contains("ChannelStaleNonce"));
        Withdrawal forged = new Withdrawal(s.channelId(), s.bob().address(), Amount.of(300), ChannelNonce.of(4),
                withdrawal.expiry());
        assertThatThrownBy(() -> s.channels().withdraw(s.relayer(), forged,
                signer.sign(forged, s.bob().credentials()), signer.sign(forged, s.bob().credentials())))
                .isInstanceOfSatisfying(ContractRevertedException.class,
                        e -> assertThat(e.errorName()).contains("ChannelInvalidSignature"));
        assertThat(s.channels().channel(Bytes32.ZERO).state()).isEqualTo(ChannelState.NONE);
        assertThat(s.channels().channel(Bytes32.ZERO).participantA()).isEqualTo(Address.ZERO);
    }

    @Test
    void opensWithAPermitSignedInJavaAndNoApproval(LocalChain chain) {
        Signer owner = chain.account(0);
        Signer alice = chain.account(1);
        Address bob = chain.account(2).address();
        Erc20Token token = Erc20Token.deployTestToken(chain.client(), owner, "Test USD", "TUSD", 6);
        token.mint(owner, alice.address(), START);
        PaymentChannelsGateway channels = PaymentChannelsGateway.deploy(chain.client(), owner);
        Bytes32 expectedId = channels.nextChannelId(alice.address(), bob, token.address());
        assertThat(token.allowance(alice.address(), channels.address())).isEqualTo(Amount.ZERO);

        OpenedChannel opened = channels.openWithPermit(alice, bob, token, Amount.of(1_000), PERIOD,
                Instant.ofEpochSecond(chain.latestTimestamp() + 3_600));

        assertThat(opened.channelId()).isEqualTo(expectedId);
        assertThat(token.balanceOf(alice.address())).isEqualTo(Amount.of(1_000_000 - 1_000));
        assertThat(token.balanceOf(channels.address())).isEqualTo(Amount.of(1_000));
        assertThat(token.allowance(alice.address(), channels.address())).isEqualTo(Amount.ZERO);
        PaymentChannel channel = channels.channel(opened.channelId());
        assertThat(channel.state()).isEqualTo(ChannelState.OPEN);
        assertThat(channel.participantA()).isEqualTo(alice.address());
        assertThat(channel.participantB()).isEqualTo(bob);
        assertThat(channel.token()).isEqualTo(token.address());
        assertThat(channel.challengePeriod()).isEqualTo(PERIOD);
        assertThat(channel.depositA()).isEqualTo(Amount.of(1_000));
        assertThat(channel.depositB()).isEqualTo(Amount.ZERO);
        assertThat(channel.funds()).isEqualTo(Amount.of(1_000));
        long block = opened.receipt().blockNumber();
        assertThat(channels.events(block, block)).singleElement().isInstanceOfSatisfying(ChannelEvent.Opened.class,
                e -> {
                    assertThat(e).isEqualTo(new ChannelEvent.Opened(opened.channelId(), alice.address(), bob,
                            token.address(), Amount.of(1_000), PERIOD, e.position()));
                    assertThat(e.position().txHash()).isEqualTo(opened.receipt().txHash());
                    assertThat(e.position().blockNumber()).isEqualTo(block);
                });
    }
}
