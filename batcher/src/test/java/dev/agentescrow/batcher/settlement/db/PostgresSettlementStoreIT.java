package dev.agentescrow.batcher.settlement.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.agentescrow.batcher.db.DatabaseConfig;
import dev.agentescrow.batcher.ledger.AccountBalance;
import dev.agentescrow.batcher.ledger.AccountKey;
import dev.agentescrow.batcher.ledger.Ledger;
import dev.agentescrow.batcher.ledger.LedgerConfig;
import dev.agentescrow.batcher.ledger.Token;
import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.batcher.ledger.TransferRequest;
import dev.agentescrow.batcher.ledger.TransferResult;
import dev.agentescrow.batcher.settlement.BatchNetting;
import dev.agentescrow.batcher.settlement.BatchState;
import dev.agentescrow.batcher.settlement.SettlementBatchRecord;
import dev.agentescrow.batcher.settlement.SettlementMovement;
import dev.agentescrow.batcher.settlement.SettlementSource;
import dev.agentescrow.batcher.settlement.UnsettledBacklog;
import dev.agentescrow.batcher.settlement.SettlementMovement.Transfer;
import dev.agentescrow.batcher.settlement.SettlementMovement.Withdrawal;
import dev.agentescrow.batcher.testing.EmbeddedPostgresExtension;
import dev.agentescrow.batcher.testing.MutableClock;
import dev.agentescrow.batcher.testing.TestDatabases;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.MinedReceipt;
import dev.agentescrow.chain.PreparedTransaction;
import dev.agentescrow.chain.TxHash;
import java.math.BigInteger;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The PostgreSQL store against the ledger's tables, without a chain: mapping, claims, transitions, outcomes. */
@ExtendWith(EmbeddedPostgresExtension.class)
class PostgresSettlementStoreIT {
    private static final Address USDC = Address.of("0x00000000000000000000000000000000000000c1");
    private static final Address ALICE = Address.of("0x000000000000000000000000000000000000a11c");
    private static final Address BOB = Address.of("0x0000000000000000000000000000000000000b0b");
    private static final SettlementAddresses ADDRESSES = new SettlementAddresses(
            Address.of("0x00000000000000000000000000000000000fee01"),
            Address.of("0x00000000000000000000000000000000000e5c01"));
    private static final Address VAULT = Address.of("0x0000000000000000000000000000000000007a17");
    private static final AtomicLong IDS = new AtomicLong(1);

    private final MutableClock clock = new MutableClock(Instant.parse("2026-11-22T12:00:00Z"));
    private DataSource dataSource;
    private Ledger ledger;
    private PostgresSettlementStore store;

    private TransferId transfer;
    private TransferId posted;
    private TransferId fee;
    private TransferId withdrawal;

    @BeforeEach
    void start(TestDatabases databases) {
        dataSource = databases.create();
        ledger = Ledger.start(dataSource, LedgerConfig.defaults(DatabaseConfig.embedded(Path.of("unused"))), clock);
        ledger.registerToken(new Token(USDC, "USDC", 6), "test", "fixture");
        store = new PostgresSettlementStore(dataSource, ledger, ADDRESSES, clock);
        commit(TransferRequest.single(id(), AccountKey.custody(USDC), user(ALICE), Amount.of(1_000)));
        commit(TransferRequest.single(id(), AccountKey.custody(USDC), user(BOB), Amount.of(1_000)));
        transfer = commit(TransferRequest.single(id(), user(ALICE), user(BOB), Amount.of(100)));
        TransferId hold = commit(TransferRequest.hold(id(), user(ALICE), user(BOB), Amount.of(50), 60));
        posted = commit(TransferRequest.post(id(), hold, Amount.of(30)));
        fee = commit(TransferRequest.single(id(), user(ALICE), AccountKey.fees(USDC), Amount.of(5)));
        TransferId voided = commit(TransferRequest.hold(id(), user(BOB), user(ALICE), Amount.of(7), 60));
        commit(TransferRequest.voidPending(id(), voided));
        withdrawal = commit(TransferRequest.single(id(), user(BOB), AccountKey.payouts(USDC), Amount.of(200)));
    }

    @AfterEach
    void stop() {
        ledger.close();
    }

    private static TransferId id() {
        return new TransferId(0x5E77, IDS.getAndIncrement());
    }

    private static AccountKey user(Address owner) {
        return AccountKey.user(owner, USDC);
    }

    private TransferId commit(TransferRequest request) {
        assertThat(ledger.submit(request)).isEqualTo(TransferResult.OK);
        return request.id();
    }

    private static TransferId sid(TransferId id) {
        return id;
    }

    private static PreparedTransaction tx(int n) {
        return new PreparedTransaction(new TxHash("0x" + String.format("%064x", n)), n, "0x02f8", ALICE, VAULT);
    }

    private static SettlementBatchRecord built(long batchId, List<SettlementMovement> movements) {
        return SettlementBatchRecord.built(BatchNetting.net(batchId, movements), 5);
    }

    private static List<TransferId> ids(List<SettlementMovement> movements) {
        return movements.stream().map(SettlementMovement::transferId).toList();
    }

    private BigInteger balance(AccountKey key) {
        return ledger.balance(key).map(AccountBalance::balance).orElse(BigInteger.ZERO);
    }

    @Test
    void mapsCommittedTransfersToMovementsInCommitOrder() {
        assertThat(store.unsettled(100)).containsExactly(
                new Transfer(sid(transfer), USDC, ALICE, BOB, Amount.of(100)),
                new Transfer(sid(posted), USDC, ALICE, BOB, Amount.of(30)),
                new Transfer(sid(fee), USDC, ALICE, ADDRESSES.feeCollector(), Amount.of(5)),
                new Withdrawal(sid(withdrawal), USDC, BOB, BOB, Amount.of(200)));
        assertThat(store.unsettled(2)).extracting(SettlementMovement::transferId)
                .containsExactly(sid(transfer), sid(posted));
        assertThat(store.backlog().count()).isEqualTo(4);
        assertThat(store.backlog().oldest()).contains(clock.instant());
    }

    @Test
    void claimsMovementsWithTheBatchAndKeepsItThroughItsTransitions() {
        List<SettlementMovement> movements = store.unsettled(100);
        SettlementBatchRecord record = built(1, movements);
        store.saveBuilt(record, ids(movements));

        assertThat(store.unsettled(100)).isEmpty();
        assertThat(store.backlog().isEmpty()).isTrue();
        assertThatThrownBy(() -> store.saveBuilt(built(2, movements.subList(0, 1)), ids(movements.subList(0, 1))))
                .isInstanceOf(IllegalStateException.class);

        store.markSubmitted(1, tx(1), 1);
        assertThatThrownBy(() -> store.markSubmitted(1, tx(1), 1)).isInstanceOf(IllegalStateException.class);
        store.markSubmitted(1, tx(2), 2);
        assertThatThrownBy(() -> store.markReverted(7, "no such batch")).isInstanceOf(IllegalStateException.class);

        PostgresSettlementStore restarted = new PostgresSettlementStore(dataSource, ledger, ADDRESSES, clock);
        assertThat(restarted.openBatches()).singleElement().satisfies(open -> {
            assertThat(open.state()).isEqualTo(BatchState.SUBMITTED);
            assertThat(open.batch().merkleRoot()).isEqualTo(record.batch().merkleRoot());
            assertThat(open.batch().movements()).isEqualTo(movements);
            assertThat(open.transactions()).containsExactly(tx(1), tx(2));
            assertThat(open.signedAtBlocks()).as("signing blocks survive a reload").containsExactly(1L, 2L);
        });
        assertThat(restarted.lastBatchId()).isZero();
        assertThat(restarted.proof(sid(transfer))).isEmpty();

        MinedReceipt receipt = new MinedReceipt(tx(2).txHash(), MinedReceipt.Status.SUCCEEDED, 42, 90_000);
        restarted.settled(1);
        restarted.settled(1);
        SettlementBatchRecord confirmed = restarted.markConfirmed(1, receipt);
        assertThat(confirmed.confirmation()).contains(receipt);
        assertThatThrownBy(() -> restarted.markReverted(1, "too late")).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> restarted.release(1)).isInstanceOf(IllegalStateException.class);
        store.settled(1);

        assertThat(store.lastBatchId()).isEqualTo(1);
        assertThat(store.openBatches()).isEmpty();
        assertThat(store.batches()).singleElement().satisfies(row -> {
            assertThat(row.state()).isEqualTo(BatchState.CONFIRMED);
            assertThat(row.confirmation()).contains(receipt);
        });
        assertThat(store.proof(sid(withdrawal))).hasValueSatisfying(proof -> {
            assertThat(proof.batchId()).isEqualTo(1);
            assertThat(proof.verify()).isTrue();
        });
        assertThat(balance(AccountKey.payouts(USDC))).isZero();
        assertThat(balance(AccountKey.custody(USDC))).isEqualTo(BigInteger.valueOf(-1_800));
        assertThat(store.unsettled(100)).isEmpty();
        assertThat(store.backlog().isEmpty()).isTrue();
    }

    @Test
    void releasesARefusedBatchAndNeverBatchesAQuarantinedMovementAgain() {
        List<SettlementMovement> movements = store.unsettled(100);
        store.saveBuilt(built(1, movements), ids(movements));
        store.markSubmitted(1, tx(3), 3);
        store.quarantine(sid(transfer), "overdraws alice");
        store.release(1);
        store.markReverted(1, "VaultInsufficientBalance");

        assertThat(store.openBatches()).isEmpty();
        assertThat(store.lastBatchId()).isZero();
        assertThat(store.quarantined()).containsOnlyKeys(sid(transfer));
        List<SettlementMovement> again = store.unsettled(100);
        assertThat(again).extracting(SettlementMovement::transferId)
                .containsExactly(sid(posted), sid(fee), sid(withdrawal));
        assertThat(store.backlog().count()).isEqualTo(3);

        store.saveBuilt(built(1, again), ids(again));
        assertThat(store.batches()).extracting(SettlementBatchRecord::state)
                .containsExactly(BatchState.REVERTED, BatchState.BUILT);
        assertThat(store.batches().getFirst().failure()).contains("VaultInsufficientBalance");
        store.quarantine(sid(transfer), "reported twice");
        assertThat(store.quarantined()).containsEntry(sid(transfer), "overdraws alice");
    }

    @Test
    void settlementNeverRewritesALedgerRow() throws Exception {
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
            s.execute("""
                    CREATE FUNCTION transfers_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN RAISE EXCEPTION 'transfers rows are immutable'; END $$""");
            s.execute("CREATE TRIGGER transfers_immutable BEFORE UPDATE OR DELETE ON transfers"
                    + " FOR EACH ROW EXECUTE FUNCTION transfers_immutable()");
        }
        List<SettlementMovement> movements = store.unsettled(100);
        assertThat(store.backlog().count()).isEqualTo(4);
        store.saveBuilt(built(1, movements), ids(movements));
        store.markSubmitted(1, tx(1), 1);
        store.refuse(1, "refused", Map.of(sid(transfer), "overdraws alice"));
        List<SettlementMovement> again = store.unsettled(100);
        assertThat(again).extracting(SettlementMovement::transferId)
                .containsExactly(sid(posted), sid(fee), sid(withdrawal));
        store.saveBuilt(built(1, again), ids(again));
        store.markSubmitted(1, tx(2), 2);
        store.settled(1);
        store.markConfirmed(1, new MinedReceipt(tx(2).txHash(), MinedReceipt.Status.SUCCEEDED, 9, 90_000));
        assertThat(store.backlog().isEmpty()).isTrue();
        assertThat(store.unsettled(100)).isEmpty();
        assertThat(store.proof(sid(fee))).isPresent();
    }

    @Test
    void refusesToClaimAMovementThatIsNotWaiting() {
        List<SettlementMovement> movements = store.unsettled(100);
        store.quarantine(movements.getFirst().transferId(), "held for review");

        assertThatThrownBy(() -> store.saveBuilt(built(1, movements), ids(movements)))
                .isInstanceOf(IllegalStateException.class);
        assertThat(store.batches()).isEmpty();
        assertThat(store.unsettled(100)).hasSize(3);
    }

    /**
     * Issue 11: the backlog read is bounded, so a tick costs the same however many transfers wait
     * (it counted every waiting transfer beyond 50,000 before): exact up to
     * {@link PostgresClaimsStore#BACKLOG_EXACT_ROWS}, a lower bound beyond, and it stops at the
     * trigger's N when asked for it; the oldest commit time is exact either way.
     */
    @Test
    void backlogIsBoundedWhateverTheNumberOfWaitingTransfers() {
        Instant first = clock.instant();
        clock.advance(java.time.Duration.ofSeconds(5));
        int extra = PostgresClaimsStore.BACKLOG_EXACT_ROWS + 500;
        List<TransferRequest> requests = new java.util.ArrayList<>();
        for (int i = 0; i < extra; i++) {
            requests.add(TransferRequest.single(id(), user(i % 2 == 0 ? ALICE : BOB), user(i % 2 == 0 ? BOB : ALICE),
                    Amount.of(1)));
            if (requests.size() == ledger.config().maxSubmissionSize()) {
                assertThat(ledger.submit(requests)).containsOnly(TransferResult.OK);
                requests.clear();
            }
        }
        assertThat(ledger.submit(requests)).containsOnly(TransferResult.OK);

        // the rows read are bounded; the fixture's five transfers without a movement are among them
        assertThat(store.backlog().count()).isEqualTo(PostgresClaimsStore.BACKLOG_EXACT_ROWS - 5);
        assertThat(store.backlog().oldest()).contains(first);
        assertThat(store.backlog(100).count()).isEqualTo(100);
        assertThat(store.backlog(100).oldest()).contains(first);
        // the submitter's one read: the candidates and the backlog they start
        SettlementSource.Waiting waiting = store.waiting(1_000);
        assertThat(waiting.movements()).hasSize(1_000);
        assertThat(waiting.movements().getFirst().transferId()).isEqualTo(sid(transfer));
        assertThat(waiting.backlog()).isEqualTo(UnsettledBacklog.of(1_000, first));
        assertThat(store.unsettled(extra + 4)).hasSize(extra + 4);
    }

    /**
     * The watermark never passes a transfer that an open batch claims, however many reads run while
     * the batch is open and whatever they find after it: once the batch is refused, its movements
     * wait again, first in commit order, and nothing is lost.
     */
    @Test
    void readsWhileABatchIsOpenNeverMoveTheWatermarkOverItsClaims() {
        List<SettlementMovement> movements = store.unsettled(100);
        store.saveBuilt(built(1, movements), ids(movements));
        TransferId later = commit(TransferRequest.single(id(), user(ALICE), user(BOB), Amount.of(1)));
        commit(TransferRequest.hold(id(), user(BOB), user(ALICE), Amount.of(2), 60));
        assertThat(store.unsettled(100)).extracting(SettlementMovement::transferId).containsExactly(later);
        assertThat(store.backlog().count()).isEqualTo(1);
        assertThat(store.backlog(1).count()).isEqualTo(1);
        store.markSubmitted(1, tx(4), 4);
        store.refuse(1, "refused", Map.of());

        assertThat(store.unsettled(100)).extracting(SettlementMovement::transferId)
                .containsExactly(sid(transfer), sid(posted), sid(fee), sid(withdrawal), later);
        assertThat(store.backlog().count()).isEqualTo(5);
    }

    /**
     * Rows a confirmed batch claims are passed over inside PostgreSQL; once they are all that
     * follows, a read still moves the watermark to the last committed transfer (settled means
     * nothing after the watermark), and never while the batch is open.
     */
    @Test
    void theWatermarkReachesTheLastTransferOnceEverythingIsSettled() throws Exception {
        List<SettlementMovement> movements = store.unsettled(100);
        store.saveBuilt(built(1, movements), ids(movements));
        assertThat(store.backlog().isEmpty()).isTrue();
        assertThat(watermark()).as("below the open batch's first claim").isLessThan(lastSeq());
        store.markSubmitted(1, tx(5), 5);
        store.settled(1);
        store.markConfirmed(1, new MinedReceipt(tx(5).txHash(), MinedReceipt.Status.SUCCEEDED, 9, 90_000));

        assertThat(store.waiting(100).movements()).isEmpty();
        assertThat(watermark()).isEqualTo(lastSeq());
    }

    private long watermark() throws Exception {
        return single("SELECT seq FROM settlement_watermark");
    }

    private long lastSeq() throws Exception {
        return single("SELECT max(seq) FROM transfers");
    }

    private long single(String sql) throws Exception {
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement();
             java.sql.ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
