package dev.agentescrow.backend.deposit.web;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.agentescrow.batcher.indexer.CustodyEvent;
import dev.agentescrow.batcher.indexer.CustodyHold;
import dev.agentescrow.batcher.read.CustodyHoldView;
import dev.agentescrow.batcher.read.CustodyHolds;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.Bytes32;
import dev.agentescrow.chain.LogPosition;
import dev.agentescrow.chain.TxHash;
import dev.agentescrow.chain.vault.VaultDeposit;
import java.math.BigInteger;
import java.time.Instant;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/** The deposit list from the indexer's bookings and the chain's deposits after its checkpoint. */
class DepositListTest {
    static final Address TOKEN = Address.of("0x00000000000000000000000000000000000000c1");
    static final Address ALICE = Address.of("0x000000000000000000000000000000000000a11c");
    static final Address BOB = Address.of("0x0000000000000000000000000000000000000b0b");
    static final TxHash ONE = new TxHash("0x" + "01".repeat(32));
    static final TxHash TWO = new TxHash("0x" + "02".repeat(32));
    static final TxHash THREE = new TxHash("0x" + "03".repeat(32));

    private static CustodyHoldView booking(TxHash tx, int ordinal, int incarnation, long block, long logIndex,
                                           CustodyHold.State state) {
        return new CustodyHoldView(CustodyEvent.Kind.DEPOSIT, tx, ordinal, incarnation, block, logIndex, TOKEN, ALICE,
                BigInteger.TEN, state, Instant.EPOCH);
    }

    private static VaultDeposit onChain(TxHash tx, Address account, long block, long logIndex) {
        return new VaultDeposit(TOKEN, account, 1, Amount.of(10),
                new LogPosition(tx, block, logIndex, Bytes32.fromHex("0x" + "ab".repeat(32))));
    }

    @Test
    void ordinal_among_the_callers_own_deposits_is_never_used_a_booking_matches_by_tx_and_log_index() {
        // Bob's deposit comes first in transaction ONE, so Alice's is the transaction's second
        // (ordinal 1) though her first: the old list re-derived ordinal 0 and never saw it credited.
        CustodyHolds booked = new CustodyHolds(List.of(booking(ONE, 1, 0, 5, 4, CustodyHold.State.POSTED)),
                OptionalLong.of(5));
        List<DepositController.Deposit> items = DepositController.list(ALICE, 9, booked,
                List.of(onChain(TWO, BOB, 7, 0)));
        assertThat(items).extracting(DepositController.Deposit::txHash, DepositController.Deposit::logIndex,
                DepositController.Deposit::state, DepositController.Deposit::confirmations)
                .containsExactly(tuple(ONE.value(), 4L, "CREDITED", 5L));
    }

    @Test
    void states_pending_held_credited_rejected_and_voided_newest_first() {
        CustodyHolds booked = new CustodyHolds(List.of(
                booking(THREE, 0, 0, 8, 1, CustodyHold.State.PENDING),
                booking(TWO, 0, 0, 6, 0, CustodyHold.State.REJECTED),
                booking(ONE, 0, 0, 4, 2, CustodyHold.State.VOIDED)), OptionalLong.of(7));
        TxHash fresh = new TxHash("0x" + "04".repeat(32));
        List<DepositController.Deposit> items = DepositController.list(ALICE, 10, booked, List.of(
                onChain(THREE, ALICE, 8, 1), onChain(fresh, ALICE, 10, 3)));
        assertThat(items).extracting(DepositController.Deposit::txHash, DepositController.Deposit::state)
                .containsExactly(tuple(fresh.value(), "PENDING"), tuple(THREE.value(), "HELD"),
                        tuple(TWO.value(), "REJECTED"), tuple(ONE.value(), "VOIDED"));
        assertThat(items.getLast().confirmations()).isZero();
    }

    @Test
    void a_deposit_mined_again_after_a_reorganisation_is_listed_once() {
        // Voided in block 4; the chain shows it again in block 9, not booked yet: PENDING, once.
        CustodyHolds waiting = new CustodyHolds(List.of(booking(ONE, 0, 0, 4, 2, CustodyHold.State.VOIDED)),
                OptionalLong.of(3));
        assertThat(DepositController.list(ALICE, 9, waiting, List.of(onChain(ONE, ALICE, 9, 0))))
                .extracting(DepositController.Deposit::blockNumber, DepositController.Deposit::state)
                .containsExactly(tuple(9L, "PENDING"));
        // Booked again (incarnation 1) and credited: CREDITED, once.
        CustodyHolds credited = new CustodyHolds(List.of(booking(ONE, 0, 1, 9, 0, CustodyHold.State.POSTED),
                booking(ONE, 0, 0, 4, 2, CustodyHold.State.VOIDED)), OptionalLong.of(9));
        assertThat(DepositController.list(ALICE, 9, credited, List.of()))
                .extracting(DepositController.Deposit::blockNumber, DepositController.Deposit::state)
                .containsExactly(tuple(9L, "CREDITED"));
    }
}
