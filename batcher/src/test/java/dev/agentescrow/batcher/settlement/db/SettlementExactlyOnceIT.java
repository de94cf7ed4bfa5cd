package dev.agentescrow.batcher.settlement.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.agentescrow.batcher.db.DatabaseConfig;
import dev.agentescrow.batcher.ledger.AccountKey;
import dev.agentescrow.batcher.ledger.Ledger;
import dev.agentescrow.batcher.ledger.LedgerConfig;
import dev.agentescrow.batcher.ledger.Token;
import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.batcher.ledger.TransferRequest;
import dev.agentescrow.batcher.ledger.TransferResult;
import dev.agentescrow.batcher.reconcile.Mismatch;
import dev.agentescrow.batcher.reconcile.db.LedgerExpectedBalances;
import dev.agentescrow.batcher.settlement.BatchNetting;
import dev.agentescrow.batcher.settlement.BatchState;
import dev.agentescrow.batcher.settlement.SettlementBatchRecord;
import dev.agentescrow.batcher.settlement.SettlementMovement;
import dev.agentescrow.batcher.testing.EmbeddedPostgresExtension;
import dev.agentescrow.batcher.testing.MutableClock;
import dev.agentescrow.batcher.testing.TestDatabases;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.MinedReceipt;
import dev.agentescrow.chain.PreparedTransaction;
import dev.agentescrow.chain.TxHash;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
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

/** Issue 10, F2: nothing settles twice, by construction (one-transaction refusal, a unique claim). */
@ExtendWith(EmbeddedPostgresExtension.class)
class SettlementExactlyOnceIT {
    private static final Address USDC = Address.of("0x00000000000000000000000000000000000000c1");
    private static final Address ALICE = Address.of("0x000000000000000000000000000000000000a11c");
    private static final Address BOB = Address.of("0x0000000000000000000000000000000000000b0b");
    private static final SettlementAddresses ADDRESSES = new SettlementAddresses(
            Address.of("0x00000000000000000000000000000000000fee01"),
            Address.of("0x00000000000000000000000000000000000e5c01"));
    private static final Address VAULT = Address.of("0x0000000000000000000000000000000000007a17");
    private static final AtomicLong IDS = new AtomicLong(1);

    private final MutableClock clock = new MutableClock(Instant.parse("2026-11-30T12:00:00Z"));
    private DataSource dataSource;
    private Ledger ledger;
    private PostgresSettlementStore store;
    private TransferId transfer;
    private TransferId withdrawal;

    @BeforeEach
    void start(TestDatabases databases) {
        dataSource = databases.create();
        ledger = Ledger.start(dataSource, LedgerConfig.defaults(DatabaseConfig.embedded(Path.of("unused"))), clock);
        ledger.registerToken(new Token(USDC, "USDC", 6), "test", "fixture");
        store = new PostgresSettlementStore(dataSource, ledger, ADDRESSES, clock);
        commit(TransferRequest.single(id(), AccountKey.custody(USDC), user(ALICE), Amount.of(1_000)));
        transfer = commit(TransferRequest.single(id(), user(ALICE), user(BOB), Amount.of(100)));
        withdrawal = commit(TransferRequest.single(id(), user(BOB), AccountKey.payouts(USDC), Amount.of(40)));
    }

    @AfterEach
    void stop() {
        ledger.close();
    }

    private static TransferId id() {
        return new TransferId(0x0F2, IDS.getAndIncrement());
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

    private SettlementBatchRecord build(long batchId) {
        List<SettlementMovement> movements = store.unsettled(100);
        SettlementBatchRecord record = SettlementBatchRecord.built(BatchNetting.net(batchId, movements), 5);
        store.saveBuilt(record, movements.stream().map(SettlementMovement::transferId).toList());
        return record;
    }

    private void sql(String statement) throws Exception {
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
            s.execute(statement);
        }
    }

    @Test
    void F2_refusingABatchIsOneTransaction() throws Exception {
        build(1);
        store.markSubmitted(1, tx(1), 1);
        // The last step of a refusal fails (as a crash would stop it): none of it may remain.
        sql("""
                CREATE FUNCTION no_revert() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN IF NEW.state = 'REVERTED' THEN RAISE EXCEPTION 'crash'; END IF; RETURN NEW; END $$""");
        sql("CREATE TRIGGER no_revert BEFORE UPDATE ON settlement_batches FOR EACH ROW EXECUTE FUNCTION no_revert()");
        assertThatThrownBy(() -> store.refuse(1, "refused", Map.of(sid(transfer), "overdraws alice")))
                .isInstanceOf(RuntimeException.class);
        assertThat(store.openBatches()).singleElement().extracting(SettlementBatchRecord::state)
                .isEqualTo(BatchState.SUBMITTED);
        assertThat(store.unsettled(100)).as("no movement released while the row is open").isEmpty();
        assertThat(store.quarantined()).isEmpty();
        assertThat(store.holdsClaims(1)).isTrue();

        sql("DROP TRIGGER no_revert ON settlement_batches");
        store.refuse(1, "refused", Map.of(sid(transfer), "overdraws alice"));
        assertThat(store.openBatches()).isEmpty();
        assertThat(store.quarantined()).containsOnlyKeys(sid(transfer));
        assertThat(store.unsettled(100)).extracting(SettlementMovement::transferId).containsExactly(sid(withdrawal));
        build(1);
        assertThat(store.holdsClaims(1)).isTrue();
    }

    @Test
    void F2_theDatabaseRefusesATransferInTwoBatchesThatAreNotReverted() throws Exception {
        build(1);
        store.markSubmitted(1, tx(1), 1);
        store.settled(1);
        store.markConfirmed(1, new MinedReceipt(tx(1).txHash(), MinedReceipt.Status.SUCCEEDED, 9, 90_000));
        assertThat(store.unsettled(100)).as("a confirmed claim is never unsettled again").isEmpty();
        // A builder that would claim the settled transfer again (as the old three-step refusal's
        // crash window allowed): the database refuses the second claim.
        List<SettlementMovement> again = store.batches().getFirst().batch().movements().stream()
                .filter(m -> m.transferId().equals(sid(transfer))).toList();
        SettlementBatchRecord second = SettlementBatchRecord.built(BatchNetting.net(2, again), 5);
        assertThatThrownBy(() -> store.saveBuilt(second, List.of(sid(transfer))))
                .hasStackTraceContaining("settlement_batch_movements_one_claim");
        assertThat(store.openBatches()).isEmpty();
    }

    @Test
    void F6_theLedgerSideReportsATransferSettledTwiceAndCountsQuarantined() throws Exception {
        // Without the unique claim (as before issue 10), the old crash window settles a transfer twice.
        sql("DROP INDEX settlement_batch_movements_one_claim");
        build(1);
        store.markSubmitted(1, tx(1), 1);
        store.settled(1);
        store.markConfirmed(1, new MinedReceipt(tx(1).txHash(), MinedReceipt.Status.SUCCEEDED, 9, 90_000));
        List<SettlementMovement> again = store.batches().getFirst().batch().movements().stream()
                .filter(m -> m.transferId().equals(sid(transfer))).toList();
        store.saveBuilt(SettlementBatchRecord.built(BatchNetting.net(2, again), 5), List.of(sid(transfer)));
        store.markSubmitted(2, tx(2), 2);
        store.settled(2);
        store.markConfirmed(2, new MinedReceipt(tx(2).txHash(), MinedReceipt.Status.SUCCEEDED, 10, 90_000));
        LedgerExpectedBalances books = new LedgerExpectedBalances(dataSource);
        assertThat(books.ledgerMismatches(USDC)).containsExactly(
                new Mismatch.DoubleSettlement(USDC, transfer.toUuid().toString(), List.of(1L, 2L)));
        assertThat(books.quarantined(USDC)).isZero();
        TransferId late = commit(TransferRequest.single(id(), user(ALICE), user(BOB), Amount.of(1)));
        store.quarantine(sid(late), "held for review");
        assertThat(books.quarantined(USDC)).isEqualTo(1);
    }

    @Test
    void F4_aRowThatCannotBeAMovementIsQuarantinedNotThrown() throws Exception {
        // Only possible from data written before issue 10 (the ledger refuses the zero address now).
        sql("INSERT INTO accounts (id, kind, owner, token, may_go_negative, created_at) VALUES (999, 'USER', '"
                + Address.ZERO.hex() + "', '" + USDC.hex() + "', FALSE, now())");
        try (Connection c = dataSource.getConnection();
             PreparedStatement s = c.prepareStatement("UPDATE transfers SET credit_account_id = 999 WHERE id = ?")) {
            s.setObject(1, transfer.toUuid());
            s.executeUpdate();
        }
        assertThat(store.unsettled(100)).extracting(SettlementMovement::transferId).containsExactly(sid(withdrawal));
        assertThat(store.quarantined()).containsOnlyKeys(sid(transfer));
        assertThat(new LedgerExpectedBalances(dataSource).quarantined(USDC)).isEqualTo(1);
    }

    @Test
    void F2_theSubmitterSeesAnOpenBatchThatLostAClaim() throws Exception {
        build(1);
        assertThat(store.holdsClaims(1)).isTrue();
        try (Connection c = dataSource.getConnection();
             PreparedStatement s = c.prepareStatement(
                     "UPDATE settlement_batch_movements SET reverted = TRUE WHERE transfer_id = ?")) {
            s.setObject(1, withdrawal.toUuid());
            s.executeUpdate();
        }
        assertThat(store.holdsClaims(1)).isFalse();
        assertThat(store.holdsClaims(2)).isFalse();
    }
    @Test
    void aMovementRowNamesAnExistingBatchRowCheckedOncePerStatement() throws Exception {
        // V16_9: the foreign key's per-row check became one check per statement; the rule holds.
        build(1);
        long rowId = scalar("SELECT row_id FROM settlement_batches WHERE batch_id = 1");
        assertThatThrownBy(() -> sql("INSERT INTO settlement_batch_movements (batch_row_id, position, transfer_id, kind,"
                + " token, from_address, to_address, amount) SELECT " + (rowId + 1000) + ", 0, gen_random_uuid(),"
                + " 'TRANSFER', token, from_address, to_address, amount FROM settlement_batch_movements"
                + " WHERE batch_row_id = " + rowId + " LIMIT 1"))
                .hasMessageContaining("names a batch row that does not exist");
        assertThatThrownBy(() -> sql("UPDATE settlement_batch_movements SET batch_row_id = " + (rowId + 1000)))
                .hasMessageContaining("does not exist");
        assertThatThrownBy(() -> sql("DELETE FROM settlement_batches WHERE row_id = " + rowId))
                .hasMessageContaining("is named by its movement rows");
        assertThat(scalar("SELECT count(*) FROM settlement_batch_movements WHERE batch_row_id = " + rowId)).isEqualTo(2);
    }

    private long scalar(String query) throws Exception {
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(query)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
