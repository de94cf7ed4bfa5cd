package dev.agentescrow.batcher.read;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.agentescrow.batcher.db.DatabaseConfig;
import dev.agentescrow.batcher.ledger.AccountKey;
import dev.agentescrow.batcher.ledger.Ledger;
import dev.agentescrow.batcher.ledger.LedgerConfig;
import dev.agentescrow.batcher.ledger.Token;
import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.batcher.ledger.TransferReceipt;
import dev.agentescrow.batcher.ledger.TransferRequest;
import dev.agentescrow.batcher.ledger.TransferResult;
import dev.agentescrow.batcher.read.FeedReads.BatchMovement;
import dev.agentescrow.batcher.read.FeedReads.ConfirmedBatch;
import dev.agentescrow.batcher.read.FeedReads.DepositCredit;
import dev.agentescrow.batcher.read.FeedReads.OnChainDeposit;
import dev.agentescrow.batcher.settlement.BatchNetting;
import dev.agentescrow.batcher.settlement.SettlementBatchRecord;
import dev.agentescrow.batcher.settlement.SettlementMovement;
import dev.agentescrow.batcher.settlement.db.PostgresSettlementStore;
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
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The feeds the service's event pollers walk: credited deposits by seq, confirmed batches and their movements. */
@ExtendWith(EmbeddedPostgresExtension.class)
class FeedReadsIT {
    static final Address USDC = LedgerReadsIT.USDC;
    static final Address ALICE = LedgerReadsIT.ALICE;
    static final Address BOB = LedgerReadsIT.BOB;
    static final String DEPOSIT_TX = "0x" + "d1".repeat(32);
    private static final AtomicLong IDS = new AtomicLong(1);

    private final MutableClock clock = new MutableClock(Instant.parse("2026-12-01T05:00:00Z"));
    private DataSource dataSource;
    private Ledger ledger;
    private FeedReads feed;

    @BeforeEach
    void start(TestDatabases databases) {
        dataSource = databases.create();
        ledger = Ledger.start(dataSource, LedgerConfig.defaults(DatabaseConfig.embedded(Path.of("unused"))), clock);
        ledger.registerToken(new Token(USDC, "USDC", 6), "test", "fixture");
        feed = new FeedReads(dataSource);
    }

    @AfterEach
    void stop() {
        ledger.close();
    }

    private static TransferId id() {
        return new TransferId(0xFEED, IDS.getAndIncrement());
    }

    private TransferReceipt commit(TransferRequest request) {
        TransferReceipt receipt = ledger.submitReceipts(List.of(request)).getFirst();
        assertThat(receipt.result()).as("%s", request).isEqualTo(TransferResult.OK);
        return receipt;
    }

    @Test
    void creditedDepositsAreSinglesAndPostsFromCustodyToAUser_inSeqOrderWithinTheWindow() {
        assertThat(feed.lastSeq()).isZero();
        TransferReceipt single = commit(TransferRequest.single(id(), AccountKey.custody(USDC),
                AccountKey.user(ALICE, USDC), Amount.of(1_000)));
        TransferId hold = id();
        TransferReceipt held = commit(TransferRequest.hold(hold, AccountKey.custody(USDC), AccountKey.user(BOB, USDC),
                Amount.of(500), 3_600).withReference("deposit:" + DEPOSIT_TX + ":3"));
        commit(TransferRequest.single(id(), AccountKey.user(ALICE, USDC), AccountKey.user(BOB, USDC), Amount.of(10)));
        TransferId voided = id();
        commit(TransferRequest.hold(voided, AccountKey.custody(USDC), AccountKey.user(ALICE, USDC), Amount.of(7), 3_600)
                .withReference("deposit:" + DEPOSIT_TX + ":4"));
        commit(TransferRequest.voidPending(id(), voided));
        TransferReceipt posted = commit(TransferRequest.postFull(id(), hold));
        commit(TransferRequest.single(id(), AccountKey.user(BOB, USDC), AccountKey.payouts(USDC), Amount.of(5)));
        long last = feed.lastSeq();
        assertThat(last).isGreaterThan(posted.seq());

        List<DepositCredit> credits = feed.creditedDepositsAfter(0, last, 100);
        assertThat(credits).containsExactly(
                new DepositCredit(single.id(), single.seq(), USDC, ALICE, BigInteger.valueOf(1_000), Optional.empty()),
                new DepositCredit(posted.id(), posted.seq(), USDC, BOB, BigInteger.valueOf(500),
                        Optional.of(new OnChainDeposit(DEPOSIT_TX, 3))));
        assertThat(feed.creditedDepositsAfter(single.seq(), last, 100)).extracting(DepositCredit::seq)
                .containsExactly(posted.seq());
        assertThat(feed.creditedDepositsAfter(0, posted.seq() - 1, 100)).extracting(DepositCredit::seq)
                .containsExactly(single.seq());
        assertThat(feed.creditedDepositsAfter(0, last, 1)).extracting(DepositCredit::seq).containsExactly(single.seq());
        assertThat(feed.creditedDepositsAfter(held.seq(), posted.seq() - 1, 100)).isEmpty();
        assertThatThrownBy(() -> feed.creditedDepositsAfter(0, last, 0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void confirmedBatchesComeInIdOrderWithTheirMovementsAndTheAccountsOwners() {
        commit(TransferRequest.single(id(), AccountKey.custody(USDC), AccountKey.user(ALICE, USDC), Amount.of(1_000)));
        TransferReceipt pay = commit(TransferRequest.single(id(), AccountKey.user(ALICE, USDC),
                AccountKey.user(BOB, USDC), Amount.of(100)));
        TransferReceipt withdrawal = commit(TransferRequest.single(id(), AccountKey.user(BOB, USDC),
                AccountKey.payouts(USDC), Amount.of(60)));
        PostgresSettlementStore store = new PostgresSettlementStore(dataSource, ledger, LedgerReadsIT.ADDRESSES, clock);
        List<SettlementMovement> movements = store.unsettled(100);
        assertThat(movements).hasSize(2);
        store.saveBuilt(SettlementBatchRecord.built(BatchNetting.net(1, movements), 5),
                movements.stream().map(SettlementMovement::transferId).toList());
        assertThat(feed.confirmedBatchesAfter(0, 10)).isEmpty();

        TxHash hash = new TxHash("0x" + "ab".repeat(32));
        store.markSubmitted(1, new PreparedTransaction(hash, 0, "0x02f8", ALICE, LedgerReadsIT.VAULT), 40);
        store.markConfirmed(1, new MinedReceipt(hash, MinedReceipt.Status.SUCCEEDED, 42, 90_000));
        store.settled(1);

        List<ConfirmedBatch> batches = feed.confirmedBatchesAfter(0, 10);
        assertThat(batches).singleElement().satisfies(batch -> {
            assertThat(batch.batchId()).isEqualTo(1);
            assertThat(batch.txHash()).isEqualTo(hash.value());
            assertThat(batch.blockNumber()).isEqualTo(42);
        });
        assertThat(feed.confirmedBatchesAfter(1, 10)).isEmpty();
        assertThat(feed.movementsOf(batches.getFirst())).containsExactlyInAnyOrder(
                new BatchMovement(pay.id(), BatchMovement.Kind.TRANSFER, ALICE, BOB, USDC, BigInteger.valueOf(100),
                        Optional.of(ALICE), Optional.of(BOB)),
                new BatchMovement(withdrawal.id(), BatchMovement.Kind.WITHDRAWAL, BOB, BOB, USDC,
                        BigInteger.valueOf(60), Optional.of(BOB), Optional.empty()));
    }
}
