package dev.agentescrow.chain.vault;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.Bytes32;
import java.math.BigInteger;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BatchEncoderTest {
    private static final Address TOKEN = Address.of("0x00000000000000000000000000000000000000aa");
    private static final Address ALICE = Address.of("0x00000000000000000000000000000000000000a1");
    private static final Address BOB = Address.of("0x00000000000000000000000000000000000000b0");
    private static final Address CAROL = Address.of("0x00000000000000000000000000000000000000c0");
    private static final Map<Address, Long> IDS = Map.of(TOKEN, 1L, ALICE, 1L, BOB, 2L, CAROL, 3L);

    @Test
    void packsSectionsDeltasSortedByAccountIdAndPayouts() {
        SettlementBatch batch = new SettlementBatch(7, Bytes32.ZERO, List.of(new SettlementBatch.TokenSettlement(TOKEN,
                List.of(new SettlementBatch.Delta(BOB, BigInteger.valueOf(300)),
                        new SettlementBatch.Delta(CAROL, BigInteger.ZERO),
                        new SettlementBatch.Delta(ALICE, BigInteger.valueOf(-300))),
                List.of(new SettlementBatch.Payout(BOB, CAROL, Amount.of(200))))));

        byte[] packed = BatchEncoder.encode(batch, IDS::get, IDS::get);

        assertThat(HexFormat.of().formatHex(packed)).isEqualTo(
                "00000001" + "0002" + "0001"
                        + "80000001" + "0000000000000000000000000000012c"
                        + "00000002" + "0000000000000000000000000000012c"
                        + "00000002" + "000000000000000000000000000000c8" + "00000000000000000000000000000000000000c0");
        assertThat(batch.entryCount()).isEqualTo(4);
    }

    @Test
    void rejectsBatchesTheVaultWouldReject() {
        assertThatThrownBy(() -> new SettlementBatch.TokenSettlement(TOKEN,
                List.of(new SettlementBatch.Delta(ALICE, BigInteger.ONE)), List.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("sum to 1");
        assertThatThrownBy(() -> new SettlementBatch(0, Bytes32.ZERO, List.of()))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new SettlementBatch.Delta(ALICE, BigInteger.ONE.shiftLeft(128)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new SettlementBatch.Payout(ALICE, Address.ZERO, Amount.of(1)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new SettlementBatch.Payout(ALICE, BOB, Amount.ZERO))
                .isInstanceOf(IllegalArgumentException.class);
        List<SettlementBatch.Payout> tooManyPayouts = Collections.nCopies(SettlementBatch.MAX_PAYOUTS + 1,
                new SettlementBatch.Payout(ALICE, BOB, Amount.of(1)));
        assertThatThrownBy(() -> new SettlementBatch(1, Bytes32.ZERO,
                List.of(new SettlementBatch.TokenSettlement(TOKEN, List.of(), tooManyPayouts))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("65 payouts");
        SettlementBatch.TokenSettlement empty = new SettlementBatch.TokenSettlement(TOKEN, List.of(), List.of());
        assertThatThrownBy(() -> new SettlementBatch(1, Bytes32.ZERO, List.of(empty, empty)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("twice");
    }

    @Test
    void marksAPayoutThatServesAForcedWithdrawalWithBit31() {
        SettlementBatch batch = new SettlementBatch(8, Bytes32.ZERO, List.of(new SettlementBatch.TokenSettlement(TOKEN,
                List.of(), List.of(SettlementBatch.Payout.servingForcedWithdrawal(CAROL, Amount.of(5))))));

        assertThat(HexFormat.of().formatHex(BatchEncoder.encode(batch, IDS::get, IDS::get))).isEqualTo(
                "00000001" + "0000" + "0001"
                        + "80000003" + "00000000000000000000000000000005" + "00000000000000000000000000000000000000c0");
        assertThatThrownBy(() -> new SettlementBatch.Payout(ALICE, BOB, Amount.of(1), true))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("paid to its account");
    }
}
