package dev.agentescrow.batcher.read;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;
import dev.agentescrow.batcher.indexer.CustodyEvent;
import dev.agentescrow.batcher.indexer.CustodyHold;
import dev.agentescrow.batcher.indexer.IndexerCheckpoint;
import dev.agentescrow.batcher.indexer.VaultIndexer;
import dev.agentescrow.batcher.indexer.db.PostgresCheckpointStore;
import dev.agentescrow.chain.Bytes32;
import dev.agentescrow.chain.LogPosition;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.agentescrow.batcher.db.DatabaseConfig;
import dev.agentescrow.batcher.ledger.AccountKey;
import dev.agentescrow.batcher.ledger.Ledger;
import dev.agentescrow.batcher.ledger.LedgerConfig;
import dev.agentescrow.batcher.ledger.Token;
import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.batcher.ledger.TransferReceipt;
import dev.agentescrow.batcher.ledger.TransferRequest;
import dev.agentescrow.batcher.ledger.TransferResult;
import dev.agentescrow.batcher.settlement.BatchNetting;
import dev.agentescrow.batcher.settlement.BatchState;
import dev.agentescrow.batcher.settlement.SettlementBatchRecord;
import dev.agentescrow.batcher.settlement.SettlementMovement;
import dev.agentescrow.batcher.settlement.db.PostgresSettlementStore;
import dev.agentescrow.batcher.settlement.db.SettlementAddresses;
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
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.postgresql.ds.PGSimpleDataSource;

/** The read API on a database the writer shares, and on a second pool with no writer at all (issue 11). */
@ExtendWith(EmbeddedPostgresExtension.class)
class LedgerReadsIT {
    static final Address USDC = Address.of("0x00000000000000000000000000000000000000c1");
    static final Address EURC = Address.of("0x00000000000000000000000000000000000000e2");
    static final Address ALICE = Address.of("0x000000000000000000000000000000000000a11c");
    static final Address BOB = Address.of("0x0000000000000000000000000000000000000b0b");
    static final Address VAULT = Address.of("0x00000000000000000000000000000000000000aa");
    static final SettlementAddresses ADDRESSES = new SettlementAddresses(
            Address.of("0x00000000000000000000000000000000000000f1"),
            Address.of("0x00000000000000000000000000000000000000e5"));
    private static final AtomicLong IDS = new AtomicLong(1);

    private final MutableClock clock = new MutableClock(Instant.parse("2026-11-30T12:00:00Z"));
    private DataSource dataSource;
    private Ledger ledger;
    private LedgerReads reads;

    @BeforeEach
    void start(TestDatabases databases) {
        dataSource = databases.create();
        ledger = Ledger.start(dataSource, LedgerConfig.defaults(DatabaseConfig.embedded(Path.of("unused"))), clock);
        ledger.registerToken(new Token(USDC, "USDC", 6), "test", "fixture");
        ledger.registerToken(new Token(EURC, "EURC", 6), "test", "fixture");
        reads = new LedgerReads(dataSource);
    }

    @AfterEach
    void stop() {
        ledger.close();
    }

    static TransferId id() {
        return new TransferId(0x11EAD, IDS.getAndIncrement());
    }

    private TransferReceipt commit(TransferRequest request) {
        TransferReceipt receipt = ledger.submitReceipts(List.of(request)).getFirst();
        assertThat(receipt.result()).as("%s", request).isEqualTo(TransferResult.OK);
        return receipt;
    }

    private static AccountKey user(Address owner, Address token) {
        return AccountKey.user(owner, token);
    }

    /** A second pool on the same database, as another instance of the service would have. */
    private static HikariDataSource secondPool(DataSource first) {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(((PGSimpleDataSource) first).getUrl());
        config.setUsername("postgres");
        config.setMaximumPoolSize(2);
        return new HikariDataSource(config);
    }

    @Test
    void everyWriteReturnsItsSeqAndCommitTime_andAReplayItsFirst() {
        TransferReceipt deposit = commit(TransferRequest.single(id(), AccountKey.custody(USDC), user(ALICE, USDC),
                Amount.of(100)));
        assertThat(deposit.seq()).isPositive();
        assertThat(deposit.committedAt()).isEqualTo(clock.instant());
        TransferRequest pay = TransferRequest.single(id(), user(ALICE, USDC), user(BOB, USDC), Amount.of(10));
        TransferReceipt first = commit(pay);
        clock.advance(Duration.ofSeconds(5));
        TransferReceipt replay = ledger.submitReceipts(List.of(pay)).getFirst();
        assertThat(replay.result()).isEqualTo(TransferResult.EXISTS);
        assertThat(replay.seq()).isEqualTo(first.seq()).isEqualTo(deposit.seq() + 1);
        assertThat(replay.committedAt()).isEqualTo(first.committedAt());
        TransferReceipt refused = ledger.submitReceipts(List.of(TransferRequest.single(id(), user(ALICE, USDC),
                user(BOB, USDC), Amount.of(1_000)))).getFirst();
        assertThat(refused.result()).isEqualTo(TransferResult.INSUFFICIENT_FUNDS);
        assertThat(refused.seq()).isZero();
        assertThat(refused.committedAt()).isNull();
    }

    @Test
    void readsOnASecondPoolWithNoWriterRunning() {
        commit(TransferRequest.single(id(), AccountKey.custody(USDC), user(ALICE, USDC), Amount.of(1_000)));
        commit(TransferRequest.single(id(), AccountKey.custody(EURC), user(ALICE, EURC), Amount.of(70)));
        TransferReceipt pay = commit(TransferRequest.single(id(), user(ALICE, USDC), user(BOB, USDC), Amount.of(100)));
        TransferId holdId = id();
        commit(TransferRequest.hold(holdId, user(ALICE, USDC), user(BOB, USDC), Amount.of(40), 3_600));
        TransferId withdrawal = id();
        TransferReceipt last = commit(TransferRequest.single(withdrawal, user(ALICE, USDC), AccountKey.payouts(USDC),
                Amount.of(300)));
        ledger.close();

        try (HikariDataSource other = secondPool(dataSource)) {
            LedgerReads instance = new LedgerReads(other);
            assertThat(instance.position()).isEqualTo(last.seq());
            Read<AccountView> alice = instance.account(user(ALICE, USDC), last.seq(), Duration.ZERO);
            assertThat(alice.status()).isEqualTo(Read.Status.FOUND);
            assertThat(alice.position()).isEqualTo(last.seq());
            AccountView a = alice.get().orElseThrow();
            assertThat(a.posted()).isEqualTo(BigInteger.valueOf(600));
            assertThat(a.held()).isEqualTo(BigInteger.valueOf(40));
            assertThat(a.available()).isEqualTo(BigInteger.valueOf(560));
            assertThat(a.incoming()).isZero();
            assertThat(a.pendingWithdrawal()).isEqualTo(BigInteger.valueOf(300));
            AccountView b = instance.account(user(BOB, USDC)).get().orElseThrow();
            assertThat(b.posted()).isEqualTo(BigInteger.valueOf(100));
            assertThat(b.incoming()).isEqualTo(BigInteger.valueOf(40));
            assertThat(instance.account(user(BOB, EURC)).status()).isEqualTo(Read.Status.NOT_FOUND);

            TransferView view = instance.transfer(pay.id()).get().orElseThrow();
            assertThat(view.transfer().seq()).isEqualTo(pay.seq());
            assertThat(view.transfer().debit()).isEqualTo(user(ALICE, USDC));
            assertThat(view.state()).isEqualTo(SettlementState.COMMITTED);
            assertThat(view.proof()).isEmpty();
            assertThat(instance.transfer(id()).status()).isEqualTo(Read.Status.NOT_FOUND);

            HistoryPage all = instance.history(ALICE, Optional.empty(), Long.MAX_VALUE, 10, 0, Duration.ZERO)
                    .get().orElseThrow();
            assertThat(all.entries()).hasSize(5);
            assertThat(all.entries().getFirst().id()).isEqualTo(withdrawal);
            assertThat(all.nextCursor()).isEmpty();
            HistoryPage eurc = instance.history(ALICE, Optional.of(EURC), Long.MAX_VALUE, 10, 0, Duration.ZERO)
                    .get().orElseThrow();
            assertThat(eurc.entries()).singleElement().extracting(TransferRecord::amount)
                    .isEqualTo(BigInteger.valueOf(70));

            assertThat(instance.openHolds(BOB, Optional.empty(), 10).get().orElseThrow())
                    .singleElement().satisfies(hold -> {
                        assertThat(hold.pendingId()).isEqualTo(holdId);
                        assertThat(hold.debit()).isEqualTo(user(ALICE, USDC));
                        assertThat(hold.expiresAt()).isEqualTo(clock.instant().plusSeconds(3_600));
                    });
            assertThat(instance.pendingWithdrawals(ALICE, Optional.of(USDC), 10).get().orElseThrow())
                    .singleElement().satisfies(w -> {
                        assertThat(w.transferId()).isEqualTo(withdrawal);
                        assertThat(w.amount()).isEqualTo(BigInteger.valueOf(300));
                        assertThat(w.state()).isEqualTo(SettlementState.COMMITTED);
                    });
            ServiceTotals totals = instance.totals();
            assertThat(totals.tokens().get(USDC).deposits()).isEqualTo(new ServiceTotals.Count(1, BigInteger.valueOf(1_000)));
            assertThat(totals.tokens().get(EURC).deposits()).isEqualTo(new ServiceTotals.Count(1, BigInteger.valueOf(70)));
            assertThat(totals.tokens().get(USDC).withdrawals()).isEqualTo(new ServiceTotals.Count(1, BigInteger.valueOf(300)));
            assertThat(totals.tokens().get(USDC).payouts()).isEqualTo(ServiceTotals.Count.ZERO);
            assertThat(totals.settledBatches()).isZero();
        }
    }

    @Test
    void aSettledTransferShowsItsBatchAndProof_andItsWithdrawalIsPaid() {
        commit(TransferRequest.single(id(), AccountKey.custody(USDC), user(ALICE, USDC), Amount.of(1_000)));
        TransferReceipt pay = commit(TransferRequest.single(id(), user(ALICE, USDC), user(BOB, USDC), Amount.of(100)));
        TransferReceipt withdrawal = commit(TransferRequest.single(id(), user(BOB, USDC), AccountKey.payouts(USDC),
                Amount.of(60)));
        PostgresSettlementStore store = new PostgresSettlementStore(dataSource, ledger, ADDRESSES, clock);
        List<SettlementMovement> movements = store.unsettled(100);
        assertThat(movements).hasSize(2);
        store.saveBuilt(SettlementBatchRecord.built(BatchNetting.net(1, movements), 5),
                movements.stream().map(SettlementMovement::transferId).toList());
        assertThat(reads.transfer(pay.id()).get().orElseThrow().state()).isEqualTo(SettlementState.BATCHED);
        assertThat(reads.pendingWithdrawals(BOB, Optional.empty(), 10, withdrawal.seq(), Duration.ofSeconds(5))
                .get().orElseThrow()).singleElement().extracting(WithdrawalView::state)
                .isEqualTo(SettlementState.BATCHED);
        PreparedTransaction tx = new PreparedTransaction(new TxHash("0x" + "ab".repeat(32)), 0, "0x02f8", ALICE, VAULT);
        store.markSubmitted(1, tx, 40);
        store.markConfirmed(1, new MinedReceipt(tx.txHash(), MinedReceipt.Status.SUCCEEDED, 42, 90_000));
        store.settled(1);

        ledger.close();
        try (HikariDataSource other = secondPool(dataSource)) {
            LedgerReads instance = new LedgerReads(other);
            TransferView settled = instance.transfer(pay.id()).get().orElseThrow();
            assertThat(settled.state()).isEqualTo(SettlementState.SETTLED);
            assertThat(settled.batchId()).hasValue(1);
            assertThat(settled.proof()).hasValueSatisfying(proof -> {
                assertThat(proof.verify()).isTrue();
                assertThat(proof.leaf().transferId())
                        .isEqualTo(TransferId.of(pay.id().toUuid()));
            });
            assertThat(instance.pendingWithdrawals(BOB, Optional.empty(), 10).get().orElseThrow()).isEmpty();
            assertThat(instance.account(user(BOB, USDC)).get().orElseThrow().pendingWithdrawal()).isZero();
            BatchView batch = instance.batch(1).get().orElseThrow();
            assertThat(batch.state()).isEqualTo(BatchState.CONFIRMED);
            assertThat(batch.movements()).isEqualTo(2);
            assertThat(batch.transferCount()).isEqualTo(1);
            assertThat(batch.withdrawalCount()).isEqualTo(1);
            assertThat(batch.accountCount()).as("Alice and Bob: a withdrawal leaf names its account").isEqualTo(2);
            assertThat(batch.movedAmount()).isEqualTo(BigInteger.valueOf(160));
            assertThat(batch.gasUsed()).hasValue(90_000);
            assertThat(batch.lastSentTxHash()).hasValue(tx.txHash().value());
            assertThat(batch.confirmedBlock()).hasValue(42);
            assertThat(instance.batches(Long.MAX_VALUE, 10).get().orElseThrow()).extracting(BatchView::batchId)
                    .containsExactly(1L);
            assertThat(instance.batch(2).status()).isEqualTo(Read.Status.NOT_FOUND);
            ServiceTotals totals = instance.totals();
            assertThat(totals.settledBatches()).isEqualTo(1);
            assertThat(totals.tokens().get(USDC).payouts()).isEqualTo(new ServiceTotals.Count(1, BigInteger.valueOf(60)));
        }
        assertThat(withdrawal.seq()).isGreaterThan(pay.seq());
    }

    @Test
    void settledBatchesCountsTheConfirmedOnes_byTwoProbesOfTheirIndex_notAScan() throws SQLException {
        commit(TransferRequest.single(id(), AccountKey.custody(USDC), user(ALICE, USDC), Amount.of(1_000)));
        PostgresSettlementStore store = new PostgresSettlementStore(dataSource, ledger, ADDRESSES, clock);
        // a vault that settled three batches before this database took over: ids start at 4
        for (long batchId = 4; batchId <= 7; batchId++) {
            commit(TransferRequest.single(id(), user(ALICE, USDC), user(BOB, USDC), Amount.of(batchId)));
            List<SettlementMovement> movements = store.unsettled(100);
            store.saveBuilt(SettlementBatchRecord.built(BatchNetting.net(batchId, movements), 5),
                    movements.stream().map(SettlementMovement::transferId).toList());
            PreparedTransaction tx = new PreparedTransaction(new TxHash(String.format("0x%064x", batchId)), 0, "0x02f8",
                    ALICE, VAULT);
            store.markSubmitted(batchId, tx, 40);
            if (batchId < 7) {
                store.markConfirmed(batchId, new MinedReceipt(tx.txHash(), MinedReceipt.Status.SUCCEEDED, 40 + batchId, 90_000));
                store.settled(batchId);
            }
        }
        assertThat(reads.totals().settledBatches()).as("4, 5 and 6 confirmed; 7 in flight").isEqualTo(3);
        String plan;
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("EXPLAIN " + LedgerReads.SETTLED_BATCHES)) {
            StringBuilder lines = new StringBuilder();
            while (rs.next()) {
                lines.append(rs.getString(1)).append('\n');
            }
            plan = lines.toString();
        }
        assertThat(plan).as(plan).contains("settlement_batches_confirmed").contains("Limit")
                .doesNotContain("Seq Scan");
    }

    @Test
    void custodyHoldsOfAnAccount_newestFirst_everyIncarnation_withTheIndexerCheckpoint() {
        PostgresCheckpointStore store = new PostgresCheckpointStore(dataSource, clock);
        assertThat(reads.custodyHolds(ALICE, CustodyEvent.Kind.DEPOSIT, 10).get().orElseThrow())
                .satisfies(none -> {
                    assertThat(none.holds()).isEmpty();
                    assertThat(none.checkpointBlock()).isEmpty();
                });
        TxHash first = new TxHash("0x" + "01".repeat(32));
        TxHash second = new TxHash("0x" + "02".repeat(32));
        // Alice's deposit in block 5, voided by a reorganisation and re-mined in block 6 at another log index.
        CustodyEvent mined = new CustodyEvent(CustodyEvent.Kind.DEPOSIT, USDC, ALICE, Amount.of(40),
                new LogPosition(first, 5, 3, Bytes32.fromHex("0x" + "a5".repeat(32))), 1);
        store.saveHold(VaultIndexer.STREAM, new CustodyHold(mined, 0, CustodyHold.State.VOIDED));
        CustodyEvent again = new CustodyEvent(CustodyEvent.Kind.DEPOSIT, USDC, ALICE, Amount.of(40),
                new LogPosition(first, 6, 0, Bytes32.fromHex("0x" + "a6".repeat(32))), 1);
        store.saveHold(VaultIndexer.STREAM, new CustodyHold(again, 1, CustodyHold.State.POSTED));
        // A later deposit of Alice, held; Bob's in the same transaction is not hers.
        store.saveHold(VaultIndexer.STREAM, new CustodyHold(new CustodyEvent(CustodyEvent.Kind.DEPOSIT, USDC, ALICE,
                Amount.of(7), new LogPosition(second, 9, 2, Bytes32.fromHex("0x" + "a9".repeat(32))), 0), 0,
                CustodyHold.State.PENDING));
        store.saveHold(VaultIndexer.STREAM, new CustodyHold(new CustodyEvent(CustodyEvent.Kind.DEPOSIT, USDC, BOB,
                Amount.of(8), new LogPosition(second, 9, 1, Bytes32.fromHex("0x" + "a9".repeat(32))), 1), 0,
                CustodyHold.State.PENDING));
        store.save(VaultIndexer.STREAM, new IndexerCheckpoint(6, Bytes32.fromHex("0x" + "a6".repeat(32))));

        CustodyHolds holds = reads.custodyHolds(ALICE, CustodyEvent.Kind.DEPOSIT, 10).get().orElseThrow();
        assertThat(holds.checkpointBlock()).hasValue(6);
        assertThat(holds.holds()).extracting(CustodyHoldView::txHash, CustodyHoldView::blockNumber,
                        CustodyHoldView::logIndex, CustodyHoldView::incarnation, CustodyHoldView::state)
                .containsExactly(
                        tuple(second, 9L, 2L, 0, CustodyHold.State.PENDING),
                        tuple(first, 6L, 0L, 1, CustodyHold.State.POSTED),
                        tuple(first, 5L, 3L, 0, CustodyHold.State.VOIDED));
        assertThat(holds.holds().getFirst().amount()).isEqualTo(BigInteger.valueOf(7));
        assertThat(holds.holds().get(2).live()).isFalse();
        assertThat(reads.custodyHolds(ALICE, CustodyEvent.Kind.DEPOSIT, 1).get().orElseThrow().holds()).hasSize(1);
        assertThat(reads.custodyHolds(ALICE, CustodyEvent.Kind.ESCAPE, 10).get().orElseThrow().holds()).isEmpty();

        // Pages: a full range says where it was cut; a range carries its events' other bookings.
        CustodyHolds first1 = reads.custodyHolds(ALICE, CustodyEvent.Kind.DEPOSIT, Optional.empty(), 1).get().orElseThrow();
        assertThat(first1.holds()).extracting(CustodyHoldView::txHash).containsExactly(second);
        assertThat(first1.cut()).hasValue(new CustodyHoldKey(9, 2, second));
        CustodyHolds next = reads.custodyHolds(ALICE, CustodyEvent.Kind.DEPOSIT, first1.cut(), 1).get().orElseThrow();
        assertThat(next.holds()).extracting(CustodyHoldView::blockNumber, CustodyHoldView::incarnation)
                .containsExactly(tuple(6L, 1), tuple(5L, 0));
        assertThat(next.cut()).hasValue(new CustodyHoldKey(6, 0, first));
        CustodyHolds below = reads.custodyHolds(ALICE, CustodyEvent.Kind.DEPOSIT,
                Optional.of(new CustodyHoldKey(6, 0, first)), 10).get().orElseThrow();
        assertThat(below.holds()).as("the voided booking below the cursor brings its event's live one")
                .extracting(CustodyHoldView::blockNumber, CustodyHoldView::state)
                .containsExactly(tuple(6L, CustodyHold.State.POSTED), tuple(5L, CustodyHold.State.VOIDED));
        assertThat(below.cut()).isEmpty();
        assertThat(below.checkpointBlock()).hasValue(6);
    }

    @Test
    void aReadAtLeastASeqWaitsForIt_orAnswersNotYet() {
        TransferReceipt deposit = commit(TransferRequest.single(id(), AccountKey.custody(USDC), user(ALICE, USDC),
                Amount.of(5)));
        Read<AccountView> ahead = reads.account(user(ALICE, USDC), deposit.seq() + 1_000, Duration.ofMillis(30));
        assertThat(ahead.status()).isEqualTo(Read.Status.NOT_YET);
        assertThat(ahead.position()).isLessThan(deposit.seq() + 1_000);
        assertThat(reads.transfer(deposit.id(), deposit.seq() + 1, Duration.ZERO).status())
                .isEqualTo(Read.Status.NOT_YET);

        TransferRequest next = TransferRequest.single(id(), AccountKey.custody(USDC), user(ALICE, USDC), Amount.of(7));
        var later = ledger.submitReceiptsAsync(List.of(next));
        Read<AccountView> waited = reads.account(user(ALICE, USDC), deposit.seq() + 1, Duration.ofSeconds(10));
        assertThat(waited.status()).isEqualTo(Read.Status.FOUND);
        assertThat(waited.position()).isGreaterThanOrEqualTo(deposit.seq() + 1);
        assertThat(waited.get().orElseThrow().posted()).isEqualTo(BigInteger.valueOf(12));
        assertThat(later.join().getFirst().seq()).isEqualTo(deposit.seq() + 1);
    }

    @Test
    void aHistoryPageByAnyKey_andReadsLeaveThePooledSessionAsItWas() throws SQLException {
        TransferReceipt deposit = commit(TransferRequest.single(id(), AccountKey.custody(USDC), user(ALICE, USDC),
                Amount.of(50)));
        TransferReceipt pay = commit(TransferRequest.single(id(), user(ALICE, USDC), user(BOB, USDC), Amount.of(20)));

        Read<HistoryPage> custody = reads.history(AccountKey.custody(USDC), Long.MAX_VALUE, 10, pay.seq(),
                Duration.ofSeconds(5));
        assertThat(custody.status()).isEqualTo(Read.Status.FOUND);
        assertThat(custody.position()).isGreaterThanOrEqualTo(pay.seq());
        assertThat(custody.get().orElseThrow().entries()).extracting(TransferRecord::id).containsExactly(deposit.id());
        Read<HistoryPage> bob = reads.history(user(BOB, USDC), Long.MAX_VALUE, 10, 0, Duration.ZERO);
        assertThat(bob.get().orElseThrow().entries()).singleElement().satisfies(entry -> {
            assertThat(entry.id()).isEqualTo(pay.id());
            assertThat(entry.debit()).isEqualTo(user(ALICE, USDC));
            assertThat(entry.credit()).isEqualTo(user(BOB, USDC));
            assertThat(entry.amount()).isEqualTo(BigInteger.valueOf(20));
        });
        assertThat(reads.history(AccountKey.escrowFunds("no-such-escrow", USDC), Long.MAX_VALUE, 10, 0, Duration.ZERO)
                .status()).isEqualTo(Read.Status.NOT_FOUND);
        Read<HistoryPage> stranger = reads.history(holder(1), Optional.empty(), Long.MAX_VALUE, 10, 0, Duration.ZERO);
        assertThat(stranger.status()).isEqualTo(Read.Status.FOUND);
        assertThat(stranger.position()).isGreaterThanOrEqualTo(pay.seq());
        assertThat(stranger.get().orElseThrow().entries()).isEmpty();
        Read<HistoryPage> ahead = reads.history(user(BOB, USDC), Long.MAX_VALUE, 10, pay.seq() + 1, Duration.ZERO);
        assertThat(ahead.status()).isEqualTo(Read.Status.NOT_YET);
        assertThat(ahead.position()).isEqualTo(pay.seq());

        try (HikariDataSource pool = secondPool(dataSource)) {
            LedgerReads pooled = new LedgerReads(pool);
            for (int i = 0; i < 4; i++) {
                assertThat(pooled.account(user(ALICE, USDC), pay.seq(), Duration.ofSeconds(5)).status())
                        .isEqualTo(Read.Status.FOUND);
                assertThat(pooled.history(ALICE, Optional.of(USDC), Long.MAX_VALUE, 5, 0, Duration.ZERO).status())
                        .isEqualTo(Read.Status.FOUND);
                assertThat(pooled.transfer(pay.id()).status()).isEqualTo(Read.Status.FOUND);
            }
            try (Connection first = pool.getConnection(); Connection second = pool.getConnection()) {
                for (Connection c : List.of(first, second)) {
                    assertThat(c.getAutoCommit()).isTrue();
                    try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                            "SELECT current_setting('transaction_isolation'), current_setting('transaction_read_only')")) {
                        rs.next();
                        assertThat(rs.getString(1)).isEqualTo("read committed");
                        assertThat(rs.getString(2)).isEqualTo("off");
                    }
                }
            }
        }
    }

    /**
     * A page's account keys come from the reader's cache of account ids (an account's identity
     * never changes): accounts created after the cache was filled are loaded when a page first
     * names them, of every kind, and a warmed reader answers the same page as a fresh one.
     */
    @Test
    void historyNamesAccountsCreatedAfterTheReaderCachedTheOthers() {
        Address carol = Address.of("0x00000000000000000000000000000000000ca201");
        commit(TransferRequest.single(id(), AccountKey.custody(USDC), user(BOB, USDC), Amount.of(100)));
        TransferReceipt first = commit(TransferRequest.single(id(), user(BOB, USDC), user(ALICE, USDC), Amount.of(10)));
        assertThat(reads.history(user(BOB, USDC), Long.MAX_VALUE, 10, first.seq(), Duration.ofSeconds(5)).get()
                .orElseThrow().entries()).hasSize(2);

        // New accounts, after the reader has cached Bob's, Alice's and custody's keys.
        TransferReceipt toCarol = commit(TransferRequest.single(id(), user(BOB, USDC), user(carol, USDC), Amount.of(7)));
        TransferReceipt fee = commit(TransferRequest.single(id(), user(BOB, USDC), AccountKey.fees(USDC), Amount.of(3)));
        Read<HistoryPage> page = reads.history(user(BOB, USDC), Long.MAX_VALUE, 10, fee.seq(), Duration.ofSeconds(5));
        assertThat(page.get().orElseThrow().entries())
                .extracting(TransferRecord::id, TransferRecord::debit, TransferRecord::credit)
                .startsWith(org.assertj.core.groups.Tuple.tuple(fee.id(), user(BOB, USDC), AccountKey.fees(USDC)),
                        org.assertj.core.groups.Tuple.tuple(toCarol.id(), user(BOB, USDC), user(carol, USDC)),
                        org.assertj.core.groups.Tuple.tuple(first.id(), user(BOB, USDC), user(ALICE, USDC)));
        assertThat(page.get().orElseThrow().entries().getLast().debit()).isEqualTo(AccountKey.custody(USDC));
        assertThat(reads.history(carol, Optional.empty(), Long.MAX_VALUE, 10, 0, Duration.ZERO).get().orElseThrow()
                .entries()).singleElement().extracting(TransferRecord::debit).isEqualTo(user(BOB, USDC));
        assertThat(new LedgerReads(dataSource).history(user(BOB, USDC), Long.MAX_VALUE, 10, 0, Duration.ZERO))
                .as("a fresh reader").isEqualTo(reads.history(user(BOB, USDC), Long.MAX_VALUE, 10, 0, Duration.ZERO));
    }

    @Test
    void historyPagesNeverRepeatNorSkip_whileTransfersCommit() throws Exception {
        commit(TransferRequest.single(id(), AccountKey.custody(USDC), user(ALICE, USDC), Amount.of(1_000_000)));
        commit(TransferRequest.single(id(), AccountKey.custody(USDC), user(BOB, USDC), Amount.of(1_000_000)));
        for (int i = 0; i < 60; i++) {
            commit(TransferRequest.single(id(), i % 2 == 0 ? user(ALICE, USDC) : user(BOB, USDC),
                    i % 2 == 0 ? user(BOB, USDC) : user(ALICE, USDC), Amount.of(1 + i)));
        }
        AtomicBoolean writing = new AtomicBoolean(true);
        List<TransferResult> background = java.util.Collections.synchronizedList(new ArrayList<>());
        Thread writer = Thread.ofVirtual().start(() -> {
            for (int i = 0; i < 300 && writing.get(); i++) {
                background.add(ledger.submit(TransferRequest.single(id(), user(BOB, USDC), user(ALICE, USDC),
                        Amount.of(1))));
            }
        });
        List<Long> seen = new ArrayList<>();
        long cursor = Long.MAX_VALUE;
        long top = -1;
        for (int page = 0; page < 1_000; page++) {
            HistoryPage next = reads.history(ALICE, Optional.of(USDC), cursor, 7, 0, Duration.ZERO).get().orElseThrow();
            next.entries().forEach(entry -> seen.add(entry.seq()));
            if (top < 0) {
                top = next.entries().getFirst().seq();
            }
            if (next.nextCursor().isEmpty()) {
                break;
            }
            cursor = next.nextCursor().getAsLong();
        }
        writing.set(false);
        writer.join();
        assertThat(background).allMatch(TransferResult::committed);

        assertThat(seen).doesNotHaveDuplicates();
        assertThat(seen).isSortedAccordingTo(java.util.Comparator.reverseOrder());
        Set<Long> expected = new HashSet<>();
        try (Connection c = dataSource.getConnection(); PreparedStatement s = c.prepareStatement("""
                SELECT t.seq FROM transfers t JOIN accounts a ON a.id IN (t.debit_account_id, t.credit_account_id)
                WHERE a.kind = 'USER' AND a.owner = ? AND a.token = ? AND t.seq <= ?""")) {
            s.setString(1, ALICE.hex());
            s.setString(2, USDC.hex());
            s.setLong(3, top);
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    expected.add(rs.getLong(1));
                }
            }
        }
        assertThat(new HashSet<>(seen)).isEqualTo(expected);
        assertThat(expected).hasSizeGreaterThanOrEqualTo(61);
    }

    @Test
    void aBalanceReadIsOneIndexLookup_whateverTheNumberOfAccountsOrTransfers() throws Exception {
        fund(50, 0);
        analyze();
        long small = readBuffers();
        fund(4_000, 50);
        for (int round = 0; round < 10; round++) {
            List<TransferRequest> pays = new ArrayList<>();
            for (int i = 0; i < 1_000; i++) {
                pays.add(TransferRequest.single(id(), user(holder(i), USDC), user(holder(i + 1), USDC), Amount.of(1)));
            }
            assertThat(ledger.submit(pays)).allMatch(TransferResult::committed);
        }
        for (int round = 0; round < 2; round++) {
            List<TransferRequest> withdrawals = new ArrayList<>();
            for (int i = 0; i < 1_000; i++) {
                withdrawals.add(TransferRequest.single(id(), user(holder(round * 1_000 + i), USDC),
                        AccountKey.payouts(USDC), Amount.of(1)));
            }
            assertThat(ledger.submit(withdrawals)).allMatch(TransferResult::committed);
        }
        analyze();
        String plan = explain("EXPLAIN " + LedgerReads.USER_ACCOUNT);
        assertThat(plan).contains("Index Scan using accounts_user_key on accounts")
                .contains("pending_withdrawals_account")
                .doesNotContain("Seq Scan on accounts").doesNotContain("Seq Scan on pending_withdrawals")
                .doesNotContain("transfers");
        long large = readBuffers();
        // Bounded, not equal: two indexes (the account's, the open withdrawals') gain a level as they
        // grow, and the checkpointer's updates beside the writer leave row versions a lookup may visit
        // until they are pruned. What must not happen is growth with the number of accounts or
        // transfers, which the plan above and the absolute cap rule out.
        assertThat(large).as("buffers of one balance read at 54 and at 4,054 accounts, 16,054 transfers, 2,000 open withdrawals: %s vs %s",
                small, large).isLessThanOrEqualTo(small + 6).isLessThanOrEqualTo(12);
        System.out.printf("balance read: %d shared buffers at 54 accounts, %d at 4,054 accounts%n", small, large);
    }

    private static Address holder(int i) {
        return Address.of(String.format("0x%040x", 0x1000 + i));
    }

    private void fund(int accounts, int from) {
        for (int start = from; start < from + accounts; start += 1_000) {
            List<TransferRequest> deposits = new ArrayList<>();
            for (int i = start; i < Math.min(from + accounts, start + 1_000); i++) {
                deposits.add(TransferRequest.single(id(), AccountKey.custody(USDC), user(holder(i), USDC),
                        Amount.of(1_000)));
            }
            assertThat(ledger.submit(deposits)).allMatch(TransferResult::committed);
        }
    }

    private void analyze() throws SQLException {
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
            s.execute("ANALYZE");
        }
    }

    private String explain(String sql) throws SQLException {
        try (Connection c = dataSource.getConnection(); PreparedStatement s = c.prepareStatement(sql)) {
            s.setString(1, holder(7).hex());
            s.setString(2, USDC.hex());
            StringBuilder plan = new StringBuilder();
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    plan.append(rs.getString(1)).append('\n');
                }
            }
            return plan.toString();
        }
    }

    /** Shared buffers (hit + read) the balance read of one account touches, from EXPLAIN (ANALYZE, BUFFERS). */
    private long readBuffers() throws SQLException {
        explain("EXPLAIN (ANALYZE, BUFFERS) " + LedgerReads.USER_ACCOUNT);
        String plan = explain("EXPLAIN (ANALYZE, BUFFERS) " + LedgerReads.USER_ACCOUNT);
        Matcher top = Pattern.compile("Buffers: shared ([^\\n]*)").matcher(plan);
        long total = 0;
        if (top.find()) {
            Matcher part = Pattern.compile("(hit|read)=(\\d+)").matcher(top.group(1));
            while (part.find()) {
                total += Long.parseLong(part.group(2));
            }
        }
        return total;
    }
}
