package dev.agentescrow.batcher.ledger;

import static dev.agentescrow.batcher.ledger.LedgerFixtures.ALICE;
import static dev.agentescrow.batcher.ledger.LedgerFixtures.BOB;
import static dev.agentescrow.batcher.ledger.LedgerFixtures.USDC;
import static dev.agentescrow.batcher.ledger.LedgerFixtures.amount;
import static dev.agentescrow.batcher.ledger.LedgerFixtures.available;
import static dev.agentescrow.batcher.ledger.LedgerFixtures.deposit;
import static dev.agentescrow.batcher.ledger.LedgerFixtures.nextId;
import static dev.agentescrow.batcher.ledger.LedgerFixtures.user;
import static org.assertj.core.api.Assertions.assertThat;

import dev.agentescrow.batcher.db.DatabaseConfig;
import dev.agentescrow.batcher.forced.ForcedWithdrawalIds;
import dev.agentescrow.batcher.indexer.VaultEventSink;
import dev.agentescrow.batcher.indexer.CustodyEvent;
import dev.agentescrow.batcher.indexer.CustodyHold;
import dev.agentescrow.batcher.indexer.db.LedgerVaultEventSink;
import dev.agentescrow.batcher.settlement.db.PostgresSettlementStore;
import dev.agentescrow.batcher.testing.EmbeddedPostgresExtension;
import dev.agentescrow.batcher.testing.MutableClock;
import dev.agentescrow.batcher.testing.TestDatabases;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.Bytes32;
import dev.agentescrow.chain.LogPosition;
import dev.agentescrow.chain.TxHash;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Issue 10's ledger findings, each shown fixed: one client can never harm another. */
@ExtendWith(EmbeddedPostgresExtension.class)
class LedgerSafetyIT {
    private static final String TOKEN = USDC.hex();
    private final MutableClock clock = new MutableClock(Instant.parse("2026-11-30T12:00:00Z"));
    private DataSource dataSource;
    private Ledger ledger;

    private void start(TestDatabases databases, LedgerConfig config) {
        dataSource = databases.create();
        ledger = Ledger.start(dataSource, config, clock);
        LedgerFixtures.registerTokens(ledger);
    }

    private void start(TestDatabases databases) {
        start(databases, LedgerConfig.defaults(DatabaseConfig.embedded(Path.of("unused"))));
    }

    @AfterEach
    void stop() {
        if (ledger != null) {
            ledger.close();
        }
    }

    @Test
    void F1_aClientCannotSquatAHoldsExpiryId(TestDatabases databases) {
        start(databases);
        deposit(ledger, ALICE, 100);
        TransferId hold = nextId();
        assertThat(ledger.submit(TransferRequest.hold(hold, user(ALICE), user(BOB), amount(60), 10)))
                .isEqualTo(TransferResult.OK);
        // The id the expiry used to derive is an ordinary id now; taking it pins nothing.
        TransferId oldDerived = TransferId.of(UUID.nameUUIDFromBytes(("expire:" + hold.hex())
                .getBytes(StandardCharsets.UTF_8)));
        deposit(ledger, BOB, 5);
        assertThat(ledger.submit(TransferRequest.single(oldDerived, user(BOB), user(ALICE), amount(1))))
                .isEqualTo(TransferResult.OK);
        // Every reserved id (where expiries live now) is refused to clients, typed or as strings.
        TransferId expiryLike = TransferId.reserved(TransferId.Domain.EXPIRE, 12345);
        assertThat(ledger.submit(TransferRequest.single(expiryLike, user(BOB), user(ALICE), amount(1))))
                .isEqualTo(TransferResult.RESERVED_ID);
        assertThat(ledger.submitInputs(List.of(TransferInput.single(expiryLike.hex(), BOB.hex(), ALICE.hex(),
                TOKEN, "1")))).containsExactly(TransferResult.RESERVED_ID);
        assertThat(ledger.submit(TransferRequest.voidPending(nextId(), expiryLike)))
                .isEqualTo(TransferResult.RESERVED_ID);
        clock.advance(Duration.ofSeconds(11));
        assertThat(ledger.expirePending()).isEqualTo(1);
        assertThat(available(ledger, user(ALICE))).isEqualTo(BigInteger.valueOf(101));
    }

    @Test
    void F1_aClientCannotSquatADepositId(TestDatabases databases) {
        start(databases);
        deposit(ledger, BOB, 10);
        LogPosition position = new LogPosition(new TxHash("0x" + "ab".repeat(32)), 7, 3,
                Bytes32.fromHex("0x" + "0b".repeat(32)));
        CustodyHold hold = new CustodyHold(new CustodyEvent(CustodyEvent.Kind.DEPOSIT, USDC, ALICE, Amount.of(50),
                position, 0), 0, CustodyHold.State.PENDING);
        TransferId depositId = LedgerVaultEventSink.holdId(hold);
        assertThat(depositId.isReserved()).isTrue();
        assertThat(ledger.submit(TransferRequest.single(depositId, user(BOB), user(ALICE), amount(1))))
                .isEqualTo(TransferResult.RESERVED_ID);
        assertThat(ledger.submitInputs(List.of(TransferInput.single(depositId.toUuid().toString(), BOB.hex(),
                ALICE.hex(), TOKEN, "1")))).containsExactly(TransferResult.RESERVED_ID);
        VaultEventSink sink = new LedgerVaultEventSink(ledger);
        assertThat(sink.hold(hold)).isEqualTo(VaultEventSink.Outcome.HELD);
        // Nor can a client resolve the deposit's hold, or take the ids of its post and void.
        assertThat(ledger.submit(TransferRequest.voidPending(TransferId.parse("0x7e57"), depositId)))
                .isEqualTo(TransferResult.RESERVED_ID);
        assertThat(ledger.submit(TransferRequest.single(LedgerVaultEventSink.postId(depositId), user(BOB), user(ALICE),
                amount(1)))).isEqualTo(TransferResult.RESERVED_ID);
        assertThat(sink.post(hold)).isEqualTo(VaultEventSink.Outcome.CREDITED);
        assertThat(sink.hold(hold)).isEqualTo(VaultEventSink.Outcome.ALREADY_BOOKED);
        assertThat(sink.post(hold)).isEqualTo(VaultEventSink.Outcome.ALREADY_BOOKED);
        assertThat(available(ledger, user(ALICE))).isEqualTo(BigInteger.valueOf(50));
    }

    @Test
    void F1_aClientCannotSquatAForcedWithdrawalId(TestDatabases databases) {
        start(databases);
        deposit(ledger, BOB, 10);
        // Everything the id is derived from is public once the request is mined.
        TransferId forced = ForcedWithdrawalIds.transferId(USDC, BOB, Amount.of(5), Instant.ofEpochSecond(1_900_000_000L));
        assertThat(forced.isReserved()).isTrue();
        assertThat(ledger.submit(TransferRequest.single(forced, user(BOB), user(ALICE), amount(1))))
                .isEqualTo(TransferResult.RESERVED_ID);
        assertThat(ledger.submitInputs(List.of(TransferInput.single(forced.toUuid().toString(), BOB.hex(),
                ALICE.hex(), TOKEN, "1")))).containsExactly(TransferResult.RESERVED_ID);
        assertThat(available(ledger, user(ALICE))).isEqualTo(BigInteger.ZERO);
        assertThat(forced).isNotEqualTo(ForcedWithdrawalIds.transferId(USDC, BOB, Amount.of(5),
                Instant.ofEpochSecond(1_900_000_001L)));
    }

    @Test
    void F1_aClientCannotSquatAPayoutId(TestDatabases databases) {
        start(databases);
        deposit(ledger, BOB, 10);
        for (long seq : new long[] {1, 2, 3, 1_000}) {
            TransferId payout = PostgresSettlementStore.payoutTransferId(seq);
            assertThat(ledger.submit(TransferRequest.single(payout, user(BOB), user(ALICE), amount(1))))
                    .isEqualTo(TransferResult.RESERVED_ID);
        }
        // Payout ids hold the withdrawal's sequence number: two withdrawals never share one.
        assertThat(PostgresSettlementStore.payoutTransferId(1)).isNotEqualTo(PostgresSettlementStore.payoutTransferId(2));
        assertThat(TransferId.reserved(TransferId.Domain.PAYOUT, 1))
                .isNotEqualTo(TransferId.reserved(TransferId.Domain.EXPIRE, 1));
        assertThat(nextId().isReserved()).isFalse();
    }

    @Test
    void F3_aNulByteInAReferenceFailsOnlyItsOwnTransfer(TestDatabases databases) {
        start(databases);
        deposit(ledger, ALICE, 1_000_000);
        List<CompletableFuture<TransferResult>> futures = new ArrayList<>();
        int poisonAt = 1_000;
        for (int i = 0; i < 2_000; i++) {
            TransferRequest request = TransferRequest.single(nextId(), user(ALICE), user(BOB), amount(1))
                    .withReference(i == poisonAt ? "bad\u0000ref" : "ok " + i);
            futures.add(ledger.submitAsync(request));
        }
        for (int i = 0; i < futures.size(); i++) {
            assertThat(futures.get(i).join()).isEqualTo(i == poisonAt ? TransferResult.INVALID_REFERENCE
                    : TransferResult.OK);
        }
        assertThat(ledger.submitInputs(List.of(new TransferInput(nextId().hex(), "SINGLE", ALICE.hex(), BOB.hex(),
                TOKEN, "1", null, null, "line\nbreak", false)))).containsExactly(TransferResult.INVALID_REFERENCE);
        assertThat(available(ledger, user(BOB))).isEqualTo(BigInteger.valueOf(1_999));
    }

    @Test
    void F3_anyWriteFailureIsolatesTheBadSubmissionAndCommitsTheRest(TestDatabases databases) throws Exception {
        start(databases);
        deposit(ledger, ALICE, 1_000_000);
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
            s.execute("""
                    CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN IF NEW.reference = 'poison' THEN RAISE EXCEPTION 'poisoned row'; END IF; RETURN NEW; END $$""");
            s.execute("CREATE TRIGGER refuse_poison BEFORE INSERT ON transfers FOR EACH ROW EXECUTE FUNCTION refuse_poison()");
        }
        List<CompletableFuture<TransferResult>> futures = new ArrayList<>();
        int poisonAt = 300;
        for (int i = 0; i < 600; i++) {
            futures.add(ledger.submitAsync(TransferRequest.single(nextId(), user(ALICE), user(BOB), amount(1))
                    .withReference(i == poisonAt ? "poison" : null)));
        }
        int ok = 0;
        int failed = 0;
        for (int i = 0; i < futures.size(); i++) {
            try {
                assertThat(futures.get(i).get(30, TimeUnit.SECONDS)).isEqualTo(TransferResult.OK);
                ok++;
            } catch (java.util.concurrent.ExecutionException e) {
                assertThat(i).isEqualTo(poisonAt);
                assertThat(e.getCause()).isInstanceOf(LedgerException.class);
                failed++;
            }
        }
        assertThat(ok).isEqualTo(599);
        assertThat(failed).isEqualTo(1);
        assertThat(available(ledger, user(BOB))).isEqualTo(BigInteger.valueOf(599));
    }

    @Test
    void F4_theZeroAddressIsRefused(TestDatabases databases) {
        start(databases);
        deposit(ledger, ALICE, 100);
        assertThat(ledger.submit(TransferRequest.single(nextId(), user(ALICE), user(Address.ZERO), amount(1))))
                .isEqualTo(TransferResult.INVALID_ADDRESS);
        assertThat(ledger.submitInputs(List.of(
                TransferInput.single(nextId().hex(), ALICE.hex(), Address.ZERO.hex(), TOKEN, "1"),
                TransferInput.single(nextId().hex(), ALICE.hex(), BOB.hex(), Address.ZERO.hex(), "1"))))
                .containsExactly(TransferResult.INVALID_ADDRESS, TransferResult.INVALID_ADDRESS);
        assertThat(available(ledger, user(ALICE))).isEqualTo(BigInteger.valueOf(100));
    }

    @Test
    void F5_aCallbackThatSubmitsAgainDoesNotDeadlockTheLedger(TestDatabases databases) throws Exception {
        start(databases, LedgerConfig.defaults(DatabaseConfig.embedded(Path.of("unused")))
                .withRequestTimeout(Duration.ofSeconds(20)));
        deposit(ledger, ALICE, 100);
        CompletableFuture<TransferResult> chained = ledger.submitAsync(
                        TransferRequest.single(nextId(), user(ALICE), user(BOB), amount(1)))
                .thenApply(first -> ledger.submit(TransferRequest.single(nextId(), user(ALICE), user(BOB), amount(2))));
        assertThat(chained.get(10, TimeUnit.SECONDS)).isEqualTo(TransferResult.OK);
        long t0 = System.nanoTime();
        ledger.close();
        ledger = null;
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(5));
    }

    @Test
    void F7_amountsAndBalancesBeyondTheVaultCapAreRefused(TestDatabases databases) {
        start(databases, LedgerConfig.defaults(DatabaseConfig.embedded(Path.of("unused")))
                .withTokenLimits(LedgerFixtures.EURC, new TokenLimits(BigInteger.valueOf(1_000), BigInteger.valueOf(1_500)))
                .withMemoryBounds(1_000, 1));
        BigInteger cap = TokenLimits.VAULT_CAP;
        assertThat(ledger.submitInputs(List.of(TransferInput.single(nextId().hex(), ALICE.hex(), BOB.hex(), TOKEN,
                cap.add(BigInteger.ONE).toString())))).containsExactly(TransferResult.AMOUNT_EXCEEDS_LIMIT);
        assertThat(ledger.submit(TransferRequest.single(nextId(), AccountKey.custody(USDC), user(ALICE),
                new Amount(cap)))).isEqualTo(TransferResult.OK);
        assertThat(ledger.submit(TransferRequest.single(nextId(), AccountKey.custody(USDC), user(ALICE), amount(1))))
                .isEqualTo(TransferResult.BALANCE_EXCEEDS_LIMIT);
        AccountKey aliceEur = AccountKey.user(ALICE, LedgerFixtures.EURC);
        AccountKey bobEur = AccountKey.user(BOB, LedgerFixtures.EURC);
        assertThat(ledger.submit(TransferRequest.single(nextId(), AccountKey.custody(LedgerFixtures.EURC), aliceEur,
                amount(1_001)))).isEqualTo(TransferResult.AMOUNT_EXCEEDS_LIMIT);
        assertThat(ledger.submit(TransferRequest.single(nextId(), AccountKey.custody(LedgerFixtures.EURC), aliceEur,
                amount(1_000)))).isEqualTo(TransferResult.OK);
        assertThat(ledger.submit(TransferRequest.hold(nextId(), AccountKey.custody(LedgerFixtures.EURC), aliceEur,
                amount(501), 60))).isEqualTo(TransferResult.BALANCE_EXCEEDS_LIMIT);
        assertThat(ledger.submit(TransferRequest.hold(nextId(), aliceEur, bobEur, amount(5), 60)))
                .isEqualTo(TransferResult.OK);
        assertThat(ledger.submit(TransferRequest.hold(nextId(), aliceEur, bobEur, amount(5), 60)))
                .isEqualTo(TransferResult.TOO_MANY_PENDING);
    }

    @Test
    void F10_anAmountWithLeadingZerosParses(TestDatabases databases) {
        start(databases);
        deposit(ledger, ALICE, 100);
        String padded = "0".repeat(90) + "7";
        assertThat(ledger.submitInputs(List.of(TransferInput.single(nextId().hex(), ALICE.hex(), BOB.hex(), TOKEN,
                padded)))).containsExactly(TransferResult.OK);
        assertThat(ledger.submitInputs(List.of(TransferInput.single(nextId().hex(), ALICE.hex(), BOB.hex(), TOKEN,
                "0".repeat(101) + "7")))).containsExactly(TransferResult.INVALID_AMOUNT);
        assertThat(available(ledger, user(BOB))).isEqualTo(BigInteger.valueOf(7));
    }

    @Test
    void F11_theStringApiCannotDebitASystemAccount(TestDatabases databases) {
        start(databases);
        deposit(ledger, ALICE, 100);
        List<TransferResult> results = ledger.submitInputs(List.of(
                TransferInput.single(nextId().hex(), "CUSTODY", BOB.hex(), TOKEN, "1"),
                TransferInput.single(nextId().hex(), "FEES", BOB.hex(), TOKEN, "1"),
                TransferInput.single(nextId().hex(), "ESCROW", BOB.hex(), TOKEN, "1"),
                TransferInput.single(nextId().hex(), "payouts", BOB.hex(), TOKEN, "1"),
                TransferInput.single(nextId().hex(), ALICE.hex(), "CUSTODY", TOKEN, "1"),
                TransferInput.single(nextId().hex(), ALICE.hex(), "FEES", TOKEN, "1")));
        assertThat(results).containsExactly(TransferResult.SYSTEM_ACCOUNT, TransferResult.SYSTEM_ACCOUNT,
                TransferResult.SYSTEM_ACCOUNT, TransferResult.SYSTEM_ACCOUNT, TransferResult.SYSTEM_ACCOUNT,
                TransferResult.OK);
        assertThat(available(ledger, user(BOB))).isZero();
    }

    @Test
    void F11_aRejectedIdMayBeUsedAgain(TestDatabases databases) {
        // Decided: a rejection writes nothing, so its id stays free (docs/ledger.md, "Ids").
        start(databases);
        TransferId id = nextId();
        assertThat(ledger.submit(TransferRequest.single(id, user(ALICE), user(BOB), amount(5))))
                .isEqualTo(TransferResult.INSUFFICIENT_FUNDS);
        deposit(ledger, ALICE, 5);
        assertThat(ledger.submit(TransferRequest.single(id, user(ALICE), user(BOB), amount(5))))
                .isEqualTo(TransferResult.OK);
        assertThat(ledger.submit(TransferRequest.single(id, user(ALICE), user(BOB), amount(5))))
                .isEqualTo(TransferResult.EXISTS);
    }
}
