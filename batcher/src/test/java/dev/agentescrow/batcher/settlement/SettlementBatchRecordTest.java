package dev.agentescrow.batcher.settlement;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.MinedReceipt;
import dev.agentescrow.chain.PreparedTransaction;
import dev.agentescrow.chain.TxHash;
import java.util.List;
import org.junit.jupiter.api.Test;

class SettlementBatchRecordTest {
    private static final NettedBatch BATCH = BatchNetting.net(7, List.of(
            Movements.transfer(1, Movements.token(0), Movements.account(0), Movements.account(1), 10),
            Movements.withdrawal(2, Movements.token(0), Movements.account(1), Movements.account(2), 4)));
    private static final Address OPERATOR = Movements.address("0909", 1);
    private static final Address VAULT = Movements.address("7a17", 1);

    private static PreparedTransaction transaction(int tag, long nonce) {
        return new PreparedTransaction(new TxHash("0x" + String.format("%02x", tag).repeat(32)), nonce, "0x02f8",
                OPERATOR, VAULT);
    }

    private static MinedReceipt receipt(PreparedTransaction transaction, MinedReceipt.Status status) {
        return new MinedReceipt(transaction.txHash(), status, 42, 100_000);
    }

    @Test
    void aBuiltBatchIsSubmittedThenConfirmed() {
        SettlementBatchRecord built = SettlementBatchRecord.built(BATCH, 5);
        PreparedTransaction tx = transaction(1, 3);

        SettlementBatchRecord submitted = built.withSubmitted(tx, 0);
        SettlementBatchRecord confirmed = submitted.withConfirmed(receipt(tx, MinedReceipt.Status.SUCCEEDED));

        assertThat(built.state()).isEqualTo(BatchState.BUILT);
        assertThat(built.currentTransaction()).isEmpty();
        assertThat(built.isOpen()).isTrue();
        assertThat(submitted.state()).isEqualTo(BatchState.SUBMITTED);
        assertThat(submitted.currentTransaction()).contains(tx);
        assertThat(confirmed.state()).isEqualTo(BatchState.CONFIRMED);
        assertThat(confirmed.isOpen()).isFalse();
        assertThat(confirmed.confirmation()).map(MinedReceipt::blockNumber).contains(42L);
        assertThat(confirmed.batchId()).isEqualTo(7);
        assertThat(confirmed.searchFromBlock()).isEqualTo(5);
    }

    @Test
    void aSubmittedBatchSignedAgainKeepsEveryTransaction() {
        PreparedTransaction first = transaction(1, 3);
        PreparedTransaction second = transaction(2, 4);

        SettlementBatchRecord record = SettlementBatchRecord.built(BATCH, 0).withSubmitted(first, 0).withSubmitted(second, 0);

        assertThat(record.transactions()).containsExactly(first, second);
        assertThat(record.currentTransaction()).contains(second);
        assertThatThrownBy(() -> record.withSubmitted(second, 0)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("already holds");
    }

    @Test
    void builtOrSubmittedBatchesMayRevertAndRevertedOnesAreFinal() {
        SettlementBatchRecord built = SettlementBatchRecord.built(BATCH, 0);
        SettlementBatchRecord revertedFromBuilt = built.withReverted("refused at gas estimation");
        SettlementBatchRecord revertedFromSubmitted = built.withSubmitted(transaction(1, 0), 0).withReverted("failed");

        assertThat(revertedFromBuilt.state()).isEqualTo(BatchState.REVERTED);
        assertThat(revertedFromBuilt.failure()).contains("refused at gas estimation");
        assertThat(revertedFromSubmitted.state()).isEqualTo(BatchState.REVERTED);
        for (SettlementBatchRecord reverted : List.of(revertedFromBuilt, revertedFromSubmitted)) {
            assertThatThrownBy(() -> reverted.withSubmitted(transaction(9, 9), 0)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("REVERTED");
            assertThatThrownBy(() -> reverted.withConfirmed(receipt(transaction(9, 9), MinedReceipt.Status.SUCCEEDED)))
                    .isInstanceOf(IllegalStateException.class);
            assertThatThrownBy(() -> reverted.withReverted("again")).isInstanceOf(IllegalStateException.class);
        }
    }

    @Test
    void confirmedBatchesAreFinal() {
        PreparedTransaction tx = transaction(1, 0);
        SettlementBatchRecord confirmed = SettlementBatchRecord.built(BATCH, 0).withSubmitted(tx, 0)
                .withConfirmed(receipt(tx, MinedReceipt.Status.SUCCEEDED));

        assertThatThrownBy(() -> confirmed.withSubmitted(transaction(2, 1), 0)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("CONFIRMED");
        assertThatThrownBy(() -> confirmed.withReverted("late")).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> confirmed.withConfirmed(receipt(tx, MinedReceipt.Status.SUCCEEDED)))
                .isInstanceOf(IllegalStateException.class);
    }

    @Test
    void aBatchFoundAppliedOnChainIsConfirmedFromBuiltButNeverByAFailedTransaction() {
        PreparedTransaction tx = transaction(1, 0);
        SettlementBatchRecord built = SettlementBatchRecord.built(BATCH, 0);

        assertThat(built.withConfirmed(receipt(tx, MinedReceipt.Status.SUCCEEDED)).state()).isEqualTo(BatchState.CONFIRMED);
        assertThatThrownBy(() -> built.withSubmitted(tx, 0).withConfirmed(receipt(tx, MinedReceipt.Status.FAILED)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("failed transaction");
    }
}
