package dev.agentescrow.backend.channel;

import static org.assertj.core.api.Assertions.assertThat;

import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.Bytes32;
import dev.agentescrow.chain.LogPosition;
import dev.agentescrow.chain.TxHash;
import dev.agentescrow.chain.channel.ChannelEvent;
import dev.agentescrow.chain.channel.ChannelNonce;
import dev.agentescrow.chain.channel.ChannelState;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ChannelFoldTest {
    private static final Bytes32 ID = Bytes32.fromHex("0x" + "11".repeat(32));
    private static final Address A = Address.of("0x" + "aa".repeat(20));
    private static final Address B = Address.of("0x" + "bb".repeat(20));
    private static final Address TOKEN = Address.of("0x" + "cc".repeat(20));
    private static final Address TOWER = Address.of("0x" + "dd".repeat(20));
    private int block;

    private LogPosition at() {
        block++;
        return new LogPosition(new TxHash("0x" + String.format("%064x", block)), block, 0,
                Bytes32.fromHex("0x" + String.format("%064x", block + 1000)));
    }

    private List<ChannelEvent> opened() {
        List<ChannelEvent> events = new ArrayList<>();
        events.add(new ChannelEvent.Opened(ID, A, B, TOKEN, A, Amount.of(1_000), Duration.ofMinutes(10), at()));
        events.add(new ChannelEvent.Accepted(ID, B, B, Amount.of(400), at()));
        return events;
    }

    @Test
    void folds_the_contract_transitions_from_open_to_settled() {
        List<ChannelEvent> events = opened();
        events.add(new ChannelEvent.Deposited(ID, A, Amount.of(100), Amount.of(1_100), at()));
        events.add(new ChannelEvent.Withdrawn(ID, B, Amount.of(50), Amount.of(50), at()));
        Channel open = ChannelFold.fold(events).orElseThrow();
        assertThat(open.state()).isEqualTo(ChannelState.OPEN);
        assertThat(open.sideA().deposit()).isEqualTo(BigInteger.valueOf(1_100));
        assertThat(open.sideB().deposit()).isEqualTo(BigInteger.valueOf(400));
        assertThat(open.sideB().withdrawn()).isEqualTo(BigInteger.valueOf(50));
        assertThat(open.funds()).isEqualTo(BigInteger.valueOf(1_450));

        events.add(new ChannelEvent.Closed(ID, A, ChannelNonce.of(2), Amount.of(30), Instant.ofEpochSecond(5_000), at()));
        Channel closing = ChannelFold.fold(events).orElseThrow();
        assertThat(closing.state()).isEqualTo(ChannelState.CLOSING);
        assertThat(closing.closer()).isEqualTo(A);
        assertThat(closing.sideB().transferred()).as("A's close carries B's proof").isEqualTo(BigInteger.valueOf(30));
        assertThat(closing.sideA().transferred()).isZero();

        events.add(new ChannelEvent.BalanceProofUpdated(ID, A, TOWER, ChannelNonce.of(9), Amount.of(300), at()));
        events.add(new ChannelEvent.Settled(ID, Amount.of(830), Amount.of(620), false, at()));
        events.add(new ChannelEvent.PaidOut(ID, A, A, Amount.of(830), at()));
        events.add(new ChannelEvent.PayoutRefused(ID, B, Amount.of(620), at()));
        Channel settled = ChannelFold.fold(events).orElseThrow();
        assertThat(settled.state()).isEqualTo(ChannelState.SETTLED);
        assertThat(settled.sideA().transferred()).isEqualTo(BigInteger.valueOf(300));
        assertThat(settled.sideB().unclaimed()).isEqualTo(BigInteger.valueOf(620));
        ChannelEvent claim = new ChannelEvent.PaidOut(ID, B, TOWER, Amount.of(620), at());
        assertThat(ChannelFold.isClaim(settled, claim)).isTrue();
        assertThat(ChannelFold.isClaim(settled, new ChannelEvent.PaidOut(ID, A, A, Amount.of(1), at()))).isFalse();
        events.add(claim);
        assertThat(ChannelFold.fold(events).orElseThrow().sideB().unclaimed()).isZero();
    }

    @Test
    void no_channel_without_its_open() {
        assertThat(ChannelFold.fold(List.of(new ChannelEvent.Deposited(ID, A, Amount.of(1), Amount.of(1), at()))))
                .isEmpty();
    }

    @Test
    void payouts_follow_the_contract_rule_clamped_to_the_funds() {
        Channel c = ChannelFold.fold(opened()).orElseThrow();
        BigInteger[] even = c.payouts(BigInteger.valueOf(300), BigInteger.valueOf(100));
        assertThat(even).containsExactly(BigInteger.valueOf(800), BigInteger.valueOf(600));
        BigInteger[] overspent = c.payouts(BigInteger.valueOf(5_000), BigInteger.ZERO);
        assertThat(overspent).containsExactly(BigInteger.ZERO, BigInteger.valueOf(1_400));
        BigInteger max = BigInteger.ONE.shiftLeft(256).subtract(BigInteger.ONE);
        assertThat(c.payouts(BigInteger.ZERO, max)).containsExactly(BigInteger.valueOf(1_400), BigInteger.ZERO);
        assertThat(c.payouts(max, max)).containsExactly(BigInteger.valueOf(1_000), BigInteger.valueOf(400));
    }
}
