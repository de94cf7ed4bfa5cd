package dev.agentescrow.backend.deposit.web;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import dev.agentescrow.backend.common.web.ApiException;

import dev.agentescrow.batcher.indexer.CustodyEvent;
import dev.agentescrow.batcher.indexer.CustodyHold;
import dev.agentescrow.batcher.read.CustodyHoldKey;
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
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Random;
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

    /** The whole list in one page, as {@code GET /deposits?limit=500} shows it. */
    private static List<DepositController.Deposit> shown(Address owner, long head, CustodyHolds booked,
                                                         List<VaultDeposit> recent) {
        return DepositController.page(DepositController.list(owner, head, booked, recent), booked.cut(),
                Optional.empty(), DepositController.MAX_LIMIT).items();
    }

    /**
     * What {@code LedgerReads.custodyHolds(account, kind, before, n)} answers over {@code all}: the
     * first {@code n} bookings below {@code before}, newest first, plus their events' other bookings.
     */
    private static CustodyHolds read(List<CustodyHoldView> all, Optional<CustodyHoldKey> before, int n,
                                     OptionalLong checkpoint) {
        Comparator<CustodyHoldView> newestFirst = Comparator.comparing(CustodyHoldKey::of)
                .thenComparingInt(CustodyHoldView::incarnation).reversed();
        List<CustodyHoldView> range = all.stream()
                .filter(h -> before.isEmpty() || CustodyHoldKey.of(h).compareTo(before.get()) < 0)
                .sorted(newestFirst).limit(n).toList();
        List<CustodyHoldView> holds = all.stream()
                .filter(h -> range.stream().anyMatch(r -> r.txHash().equals(h.txHash()) && r.ordinal() == h.ordinal()))
                .sorted(newestFirst).toList();
        return new CustodyHolds(holds, checkpoint,
                range.size() == n ? Optional.of(CustodyHoldKey.of(range.getLast())) : Optional.empty());
    }

    /** Every page from the first, as a client follows nextCursor. */
    private static List<DepositController.DepositList> pages(List<CustodyHoldView> all, List<VaultDeposit> recent,
                                                             long head, OptionalLong checkpoint, int size) {
        List<DepositController.DepositList> pages = new ArrayList<>();
        Optional<CustodyHoldKey> before = Optional.empty();
        do {
            CustodyHolds booked = read(all, before, size + 1, checkpoint);
            DepositController.DepositList page = DepositController.page(
                    DepositController.list(ALICE, head, booked, recent), booked.cut(), before, size);
            assertThat(page.items().size()).isLessThanOrEqualTo(size);
            pages.add(page);
            assertThat(pages).as("pages end").hasSizeLessThan(all.size() + recent.size() + 2);
            before = page.nextCursor() == null ? Optional.empty() : Optional.of(DepositCursor.decode(page.nextCursor()));
        } while (before.isPresent());
        return pages;
    }

    @Test
    void pages_show_each_deposit_once_as_the_whole_list_does_however_its_bookings_spread_over_blocks() {
        long seed = System.nanoTime();
        Random random = new Random(seed);
        for (int round = 0; round < 200; round++) {
            List<CustodyHoldView> all = new ArrayList<>();
            List<VaultDeposit> recent = new ArrayList<>();
            int events = random.nextInt(12);
            long checkpoint = 40;
            for (int e = 0; e < events; e++) {
                TxHash tx = new TxHash(String.format("0x%064x", random.nextInt(6) * 1000 + e));
                int incarnations = 1 + random.nextInt(3);
                for (int i = 0; i < incarnations; i++) {
                    boolean last = i == incarnations - 1;
                    CustodyHold.State state = !last || random.nextInt(5) == 0 ? CustodyHold.State.VOIDED
                            : CustodyHold.State.values()[random.nextInt(3)];
                    all.add(booking(tx, 0, i, random.nextInt(40), random.nextInt(3), state));
                }
                // Mined again after the checkpoint, not booked yet (its bookings all voided).
                if (all.getLast().state() == CustodyHold.State.VOIDED && random.nextInt(3) == 0) {
                    recent.add(onChain(tx, ALICE, checkpoint + 1 + random.nextInt(5), random.nextInt(3)));
                }
            }
            for (int fresh = random.nextInt(3); fresh > 0; fresh--) {
                recent.add(onChain(new TxHash(String.format("0x%064x", 9000 + fresh)), random.nextBoolean() ? ALICE : BOB,
                        checkpoint + 1 + random.nextInt(5), random.nextInt(3)));
            }
            List<DepositController.Deposit> whole = shown(ALICE, 50, read(all, Optional.empty(), 1000,
                    OptionalLong.of(checkpoint)), recent);
            int size = 1 + random.nextInt(4);
            List<DepositController.Deposit> paged = pages(all, recent, 50, OptionalLong.of(checkpoint), size).stream()
                    .flatMap(page -> page.items().stream()).toList();
            assertThat(paged).as("seed %d round %d page size %d", seed, round, size).isEqualTo(whole);
        }
    }

    @Test
    void a_cursor_is_opaque_and_anything_else_is_invalid_cursor() {
        CustodyHoldKey key = new CustodyHoldKey(12, 3, TWO);
        assertThat(DepositCursor.decode(DepositCursor.encode(key))).isEqualTo(key);
        String bogus = java.util.Base64.getUrlEncoder().withoutPadding()
                .encodeToString("d1:-1:0:0x00".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        for (String cursor : new String[] {"", "x", "%00", bogus, "ZDE6MTI6Mw", "a".repeat(200), "aDE6MTI"}) {
            assertThatThrownBy(() -> DepositCursor.decode(cursor)).as(cursor).isInstanceOfSatisfying(ApiException.class,
                    e -> assertThat(e.code()).isEqualTo("INVALID_CURSOR"));
        }
    }

    @Test
    void ordinal_among_the_callers_own_deposits_is_never_used_a_booking_matches_by_tx_and_log_index() {
        // Bob's deposit comes first in transaction ONE, so Alice's is the transaction's second
        // (ordinal 1) though her first: the old list re-derived ordinal 0 and never saw it credited.
        CustodyHolds booked = new CustodyHolds(List.of(booking(ONE, 1, 0, 5, 4, CustodyHold.State.POSTED)),
                OptionalLong.of(5));
        List<DepositController.Deposit> items = shown(ALICE, 9, booked,
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
        List<DepositController.Deposit> items = shown(ALICE, 10, booked, List.of(
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
        assertThat(shown(ALICE, 9, waiting, List.of(onChain(ONE, ALICE, 9, 0))))
                .extracting(DepositController.Deposit::blockNumber, DepositController.Deposit::state)
                .containsExactly(tuple(9L, "PENDING"));
        // Booked again (incarnation 1) and credited: CREDITED, once.
        CustodyHolds credited = new CustodyHolds(List.of(booking(ONE, 0, 1, 9, 0, CustodyHold.State.POSTED),
                booking(ONE, 0, 0, 4, 2, CustodyHold.State.VOIDED)), OptionalLong.of(9));
        assertThat(shown(ALICE, 9, credited, List.of()))
                .extracting(DepositController.Deposit::blockNumber, DepositController.Deposit::state)
                .containsExactly(tuple(9L, "CREDITED"));
    }
}
