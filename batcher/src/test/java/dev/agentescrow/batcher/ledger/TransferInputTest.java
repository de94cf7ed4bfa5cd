package dev.agentescrow.batcher.ledger;

import static org.assertj.core.api.Assertions.assertThat;

import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import org.junit.jupiter.api.Test;

class TransferInputTest {
    private static final String TOKEN = "0x00000000000000000000000000000000000000c1";
    private static final String ALICE = "0x000000000000000000000000000000000000a11c";

    @Test
    void parsesAUserToSystemTransfer() {
        TransferInput.Parsed parsed = TransferInput.single("0x2a", ALICE, "payouts", TOKEN, "1000").parse();
        assertThat(parsed.ok()).isTrue();
        TransferRequest request = parsed.request();
        assertThat(request.id()).isEqualTo(TransferId.parse("0x2a"));
        assertThat(request.debit()).isEqualTo(AccountKey.user(Address.of(ALICE), Address.of(TOKEN)));
        assertThat(request.credit()).isEqualTo(AccountKey.payouts(Address.of(TOKEN)));
        assertThat(request.amount()).isEqualTo(Amount.of(1000));
    }

    @Test
    void parsesPostAndVoid() {
        TransferInput post = new TransferInput("0x2", "post", null, null, null, null, "0x1", null, "task", false);
        assertThat(post.parse().request().amount()).isNull();
        TransferInput voided = new TransferInput("0x3", "VOID", null, null, null, "5", "0x1", null, null, false);
        assertThat(voided.parse().error()).isEqualTo(TransferResult.INVALID_AMOUNT);
        TransferInput noPending = new TransferInput("0x3", "VOID", null, null, null, null, "zz", null, null, false);
        assertThat(noPending.parse().error()).isEqualTo(TransferResult.INVALID_ID);
    }

    @Test
    void mapsAmountsOutsideUint256ToResults() {
        assertThat(TransferInput.amountError("1")).isNull();
        assertThat(TransferInput.amountError(Amount.MAX_UINT256.toString())).isNull();
        assertThat(TransferInput.amountError(Amount.MAX_UINT256.add(java.math.BigInteger.ONE).toString()))
                .isEqualTo(TransferResult.AMOUNT_EXCEEDS_UINT256);
        assertThat(TransferInput.amountError("0")).isEqualTo(TransferResult.INVALID_AMOUNT);
        assertThat(TransferInput.amountError("-1")).isEqualTo(TransferResult.INVALID_AMOUNT);
        assertThat(TransferInput.amountError("1e6")).isEqualTo(TransferResult.INVALID_AMOUNT);
        assertThat(TransferInput.amountError(null)).isEqualTo(TransferResult.INVALID_AMOUNT);
    }
}
