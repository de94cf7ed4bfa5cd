package dev.agentescrow.batcher.ledger;

import static dev.agentescrow.batcher.ledger.LedgerFixtures.ALICE;
import static dev.agentescrow.batcher.ledger.LedgerFixtures.BOB;
import static dev.agentescrow.batcher.ledger.LedgerFixtures.CAROL;
import static dev.agentescrow.batcher.ledger.LedgerFixtures.EURC;
import static dev.agentescrow.batcher.ledger.LedgerFixtures.UNREGISTERED;
import static dev.agentescrow.batcher.ledger.LedgerFixtures.USDC;
import static dev.agentescrow.batcher.ledger.LedgerFixtures.amount;
import static dev.agentescrow.batcher.ledger.LedgerFixtures.assertSumsToZero;
import static dev.agentescrow.batcher.ledger.LedgerFixtures.available;
import static dev.agentescrow.batcher.ledger.LedgerFixtures.balance;
import static dev.agentescrow.batcher.ledger.LedgerFixtures.count;
import static dev.agentescrow.batcher.ledger.LedgerFixtures.deposit;
import static dev.agentescrow.batcher.ledger.LedgerFixtures.nextId;
import static dev.agentescrow.batcher.ledger.LedgerFixtures.snapshot;
import static dev.agentescrow.batcher.ledger.LedgerFixtures.user;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.agentescrow.batcher.db.DatabaseConfig;
import dev.agentescrow.batcher.testing.EmbeddedPostgresExtension;
import dev.agentescrow.batcher.testing.MutableClock;
import dev.agentescrow.batcher.testing.TestDatabases;
import dev.agentescrow.chain.Amount;
import java.math.BigInteger;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(EmbeddedPostgresExtension.class)
class LedgerIT {
    private final MutableClock clock = new MutableClock(Instant.parse("2026-11-22T12:00:00Z"));
    private DataSource dataSource;
    private Ledger ledger;

    @BeforeEach
    void start(TestDatabases databases) {
        dataSource = databases.create();
        ledger = Ledger.start(dataSource, config(), clock);
        LedgerFixtures.registerTokens(ledger);
    }

    @AfterEach
    void stop() {
        ledger.close();
    }

    private static LedgerConfig config() {
        return LedgerConfig.defaults(DatabaseConfig.embedded(Path.of("unused")));
    }

    @Test
    void commitsWithSynchronousCommitOn() throws Exception {
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT current_setting('synchronous_commit'), current_setting('fsync')")) {
            rs.next();
            assertThat(rs.getString(1)).isEqualTo("on");
            assertThat(rs.getString(2)).isEqualTo("on");
        }
    }

    @Test
    void registeringATokenCreatesItsSystemAccountsAndAudits() {
        assertThat(ledger.registerToken(new Token(USDC, "USDC", 6), "test", "again"))
                .isEqualTo(TokenRegistration.ALREADY_REGISTERED);
        assertThat(ledger.registerToken(new Token(USDC, "USDX", 6), "test", "other symbol"))
                .isEqualTo(TokenRegistration.CONFLICT);
        assertThat(ledger.balances().keySet()).contains(AccountKey.custody(USDC), AccountKey.fees(USDC),
                AccountKey.escrow(USDC), AccountKey.payouts(USDC), AccountKey.custody(EURC));
        assertThat(count(dataSource, "SELECT count(*) FROM audit_log WHERE action = 'REGISTER_TOKEN'"
                + " AND actor = 'test'")).isEqualTo(2);
    }

    @Test
    void movesFundsAndCreatesTheCreditAccountOnFirstCredit() {
        deposit(ledger, ALICE, 1_000);
        TransferId id = nextId();
        assertThat(ledger.submit(TransferRequest.single(id, user(ALICE), user(BOB), amount(300))
                .withReference("task-7"))).isEqualTo(TransferResult.OK);

        assertThat(balance(ledger, user(ALICE))).isEqualTo(700);
        assertThat(balance(ledger, user(BOB))).isEqualTo(300);
        assertThat(balance(ledger, AccountKey.custody(USDC))).isEqualTo(-1_000);
        assertThat(count(dataSource, "SELECT count(*) FROM audit_log WHERE action = 'OPEN_ACCOUNT'"
                + " AND subject = '" + user(BOB) + "'")).isEqualTo(1);
        assertThat(count(dataSource, "SELECT count(*) FROM transfers WHERE reference = 'task-7'"
                + " AND created_at = '2026-11-22T12:00:00Z'")).isEqualTo(1);
        assertSumsToZero(ledger.balances());
    }

    @Test
    void sameIdSameContentIsExistsAndDifferentContentIsAConflict() {
        deposit(ledger, ALICE, 1_000);
        TransferId id = nextId();
        TransferRequest pay = TransferRequest.single(id, user(ALICE), user(BOB), amount(100));
        assertThat(ledger.submit(pay)).isEqualTo(TransferResult.OK);
        String before = snapshot(dataSource, ledger);

        assertThat(ledger.submit(pay)).isEqualTo(TransferResult.EXISTS);
        assertThat(ledger.submit(TransferRequest.single(id, user(ALICE), user(BOB), amount(101))))
                .isEqualTo(TransferResult.EXISTS_WITH_DIFFERENT_CONTENT);
        assertThat(ledger.submit(TransferRequest.single(id, user(ALICE), user(CAROL), amount(100))))
                .isEqualTo(TransferResult.EXISTS_WITH_DIFFERENT_CONTENT);
        assertThat(ledger.submit(pay.withReference("other")))
                .isEqualTo(TransferResult.EXISTS_WITH_DIFFERENT_CONTENT);
        assertThat(snapshot(dataSource, ledger)).isEqualTo(before);
    }

    @Test
    void duplicatesInsideOneSubmissionAreDetected() {
        deposit(ledger, ALICE, 1_000);
        TransferId id = nextId();
        TransferRequest pay = TransferRequest.single(id, user(ALICE), user(BOB), amount(100));
        List<TransferResult> results = ledger.submit(List.of(pay, pay,
                TransferRequest.single(id, user(ALICE), user(BOB), amount(5))));
        assertThat(results).containsExactly(TransferResult.OK, TransferResult.EXISTS,
                TransferResult.EXISTS_WITH_DIFFERENT_CONTENT);
        assertThat(balance(ledger, user(BOB))).isEqualTo(100);
    }

    @Test
    void insufficientFundsIsAResultAndWritesNothing() {
        deposit(ledger, ALICE, 100);
        String before = snapshot(dataSource, ledger);
        assertThat(ledger.submit(TransferRequest.single(nextId(), user(ALICE), user(BOB), amount(101))))
                .isEqualTo(TransferResult.INSUFFICIENT_FUNDS);
        assertThat(ledger.submit(TransferRequest.single(nextId(), user(CAROL), user(BOB), amount(1))))
                .isEqualTo(TransferResult.INSUFFICIENT_FUNDS);
        assertThat(ledger.submit(TransferRequest.single(nextId(), AccountKey.fees(USDC), user(BOB), amount(1))))
                .isEqualTo(TransferResult.INSUFFICIENT_FUNDS);
        assertThat(snapshot(dataSource, ledger)).isEqualTo(before);
        assertThat(ledger.submit(TransferRequest.single(nextId(), user(ALICE), user(BOB), amount(100))))
                .isEqualTo(TransferResult.OK);
        assertThat(available(ledger, user(ALICE))).isZero();
    }

    @Test
    void badTypedInputIsAResultAndWritesNothing() {
        deposit(ledger, ALICE, 100);
        String before = snapshot(dataSource, ledger);
        List<TransferResult> results = ledger.submit(List.of(
                TransferRequest.single(nextId(), user(ALICE), user(BOB), Amount.ZERO),
                TransferRequest.single(nextId(), user(ALICE), user(ALICE), amount(1)),
                TransferRequest.single(nextId(), user(ALICE), AccountKey.user(BOB, EURC), amount(1)),
                TransferRequest.single(nextId(), AccountKey.user(ALICE, UNREGISTERED),
                        AccountKey.user(BOB, UNREGISTERED), amount(1)),
                TransferRequest.hold(nextId(), user(ALICE), user(BOB), amount(1), 0),
                TransferRequest.hold(nextId(), user(ALICE), user(BOB), amount(1), 31L * 24 * 3600),
                TransferRequest.single(nextId(), user(ALICE), user(BOB), amount(1)).withReference("x".repeat(129)),
                TransferRequest.postFull(nextId(), nextId()),
                TransferRequest.voidPending(nextId(), nextId())));
        assertThat(results).containsExactly(
                TransferResult.INVALID_AMOUNT,
                TransferResult.SAME_ACCOUNT,
                TransferResult.ACCOUNT_TOKEN_MISMATCH,
                TransferResult.UNKNOWN_TOKEN,
                TransferResult.INVALID_TIMEOUT,
                TransferResult.INVALID_TIMEOUT,
                TransferResult.INVALID_REFERENCE,
                TransferResult.PENDING_NOT_FOUND,
                TransferResult.PENDING_NOT_FOUND);
        assertThat(snapshot(dataSource, ledger)).isEqualTo(before);
    }

    @Test
    void badStringInputIsAResultAndWritesNothing() {
        deposit(ledger, ALICE, 100);
        String before = snapshot(dataSource, ledger);
        String alice = ALICE.hex();
        String bob = BOB.hex();
        String usdc = USDC.hex();
        String tooBig = Amount.MAX_UINT256.add(BigInteger.ONE).toString();
        List<TransferResult> results = ledger.submitInputs(List.of(
                TransferInput.single("0x1", alice, bob, usdc, "-5"),
                TransferInput.single("0x2", alice, bob, usdc, "0"),
                TransferInput.single("0x3", alice, bob, usdc, "1.5"),
                TransferInput.single("0x4", alice, bob, usdc, tooBig),
                TransferInput.single("0x5", "0x1234", bob, usdc, "1"),
                TransferInput.single("0x6", alice, bob, "0xnot-a-token", "1"),
                TransferInput.single("0x7", alice, bob + "0", usdc, "1"),
                TransferInput.single("not-an-id", alice, bob, usdc, "1"),
                TransferInput.single("0x" + "f".repeat(33), alice, bob, usdc, "1"),
                TransferInput.single("0x8", alice, alice, usdc, "1"),
                TransferInput.single("0x9", alice, bob, UNREGISTERED.hex(), "1"),
                TransferInput.single("0xa", alice, "NOBODY", usdc, "1"),
                new TransferInput("0xb", "REFUND", alice, bob, usdc, "1", null, null, null, false),
                new TransferInput("0xc", "PENDING", alice, bob, usdc, "1", null, "-1", null, false)));
        assertThat(results).containsExactly(
                TransferResult.INVALID_AMOUNT,
                TransferResult.INVALID_AMOUNT,
                TransferResult.INVALID_AMOUNT,
                TransferResult.AMOUNT_EXCEEDS_UINT256,
                TransferResult.INVALID_ADDRESS,
                TransferResult.INVALID_ADDRESS,
                TransferResult.INVALID_ADDRESS,
                TransferResult.INVALID_ID,
                TransferResult.INVALID_ID,
                TransferResult.SAME_ACCOUNT,
                TransferResult.UNKNOWN_TOKEN,
                TransferResult.INVALID_ADDRESS,
                TransferResult.INVALID_KIND,
                TransferResult.INVALID_TIMEOUT);
        assertThat(snapshot(dataSource, ledger)).isEqualTo(before);

        assertThat(ledger.submitInputs(List.of(TransferInput.single("0xd", alice, "ESCROW", usdc, "40"))))
                .containsExactly(TransferResult.OK);
        assertThat(balance(ledger, AccountKey.escrow(USDC))).isEqualTo(40);
    }

    @Test
    void holdThenPostInFullOrInPart() {
        deposit(ledger, ALICE, 1_000);
        TransferId full = nextId();
        TransferId part = nextId();
        assertThat(ledger.submit(List.of(
                TransferRequest.hold(full, user(ALICE), user(BOB), amount(300), 60),
                TransferRequest.hold(part, user(ALICE), user(CAROL), amount(500), 60))))
                .containsOnly(TransferResult.OK);
        assertThat(available(ledger, user(ALICE))).isEqualTo(200);
        assertThat(balance(ledger, user(ALICE))).isEqualTo(1_000);
        assertThat(ledger.submit(TransferRequest.single(nextId(), user(ALICE), user(BOB), amount(201))))
                .isEqualTo(TransferResult.INSUFFICIENT_FUNDS);
        assertSumsToZero(ledger.balances());

        assertThat(ledger.submit(TransferRequest.post(nextId(), part, amount(501))))
                .isEqualTo(TransferResult.POST_AMOUNT_EXCEEDS_PENDING);
        TransferId postFull = nextId();
        assertThat(ledger.submit(TransferRequest.postFull(postFull, full))).isEqualTo(TransferResult.OK);
        assertThat(ledger.submit(TransferRequest.postFull(postFull, full))).isEqualTo(TransferResult.EXISTS);
        assertThat(ledger.submit(TransferRequest.post(nextId(), part, amount(120)))).isEqualTo(TransferResult.OK);

        assertThat(balance(ledger, user(BOB))).isEqualTo(300);
        assertThat(balance(ledger, user(CAROL))).isEqualTo(120);
        assertThat(available(ledger, user(ALICE))).isEqualTo(580);
        assertThat(ledger.balance(user(ALICE)).orElseThrow().debitsPending()).isZero();
        assertThat(ledger.balance(user(CAROL)).orElseThrow().creditsPending()).isZero();

        assertThat(ledger.submit(TransferRequest.postFull(nextId(), full)))
                .isEqualTo(TransferResult.PENDING_ALREADY_POSTED);
        assertThat(ledger.submit(TransferRequest.voidPending(nextId(), part)))
                .isEqualTo(TransferResult.PENDING_ALREADY_POSTED);
        assertSumsToZero(ledger.balances());
    }

    @Test
    void voidReturnsTheHold() {
        deposit(ledger, ALICE, 1_000);
        TransferId hold = nextId();
        assertThat(ledger.submit(TransferRequest.hold(hold, user(ALICE), AccountKey.escrow(USDC), amount(400), 60)))
                .isEqualTo(TransferResult.OK);
        assertThat(ledger.submit(TransferRequest.voidPending(nextId(), hold))).isEqualTo(TransferResult.OK);
        assertThat(available(ledger, user(ALICE))).isEqualTo(1_000);
        assertThat(ledger.balance(AccountKey.escrow(USDC)).orElseThrow().creditsPending()).isZero();
        assertThat(ledger.submit(TransferRequest.postFull(nextId(), hold)))
                .isEqualTo(TransferResult.PENDING_ALREADY_VOIDED);
        assertSumsToZero(ledger.balances());
    }

    @Test
    void holdsExpireAtTheirTimeout() {
        deposit(ledger, ALICE, 1_000);
        TransferId early = nextId();
        TransferId late = nextId();
        ledger.submit(List.of(
                TransferRequest.hold(early, user(ALICE), user(BOB), amount(100), 30),
                TransferRequest.hold(late, user(ALICE), user(BOB), amount(200), 90)));
        assertThat(ledger.expirePending()).isZero();

        clock.advance(Duration.ofSeconds(30));
        assertThat(ledger.submit(TransferRequest.postFull(nextId(), early)))
                .as("past its timeout, even before expirePending ran").isEqualTo(TransferResult.PENDING_EXPIRED);
        assertThat(ledger.expirePending()).isEqualTo(1);
        assertThat(ledger.expirePending()).isZero();
        assertThat(available(ledger, user(ALICE))).isEqualTo(800);
        assertThat(ledger.submit(TransferRequest.voidPending(nextId(), early)))
                .isEqualTo(TransferResult.PENDING_EXPIRED);
        assertThat(ledger.submit(TransferRequest.postFull(nextId(), late))).isEqualTo(TransferResult.OK);

        clock.advance(Duration.ofSeconds(120));
        assertThat(ledger.expirePending()).isZero();
        assertThat(balance(ledger, user(BOB))).isEqualTo(200);
        assertThat(available(ledger, user(ALICE))).isEqualTo(800);
        assertThat(count(dataSource, "SELECT count(*) FROM transfers WHERE kind = 'EXPIRE'")).isEqualTo(1);
        assertSumsToZero(ledger.balances());
    }

    @Test
    void linkedTransfersCommitAllOrNone() {
        deposit(ledger, ALICE, 1_000);
        String before = snapshot(dataSource, ledger);
        List<TransferResult> failed = ledger.submit(List.of(
                TransferRequest.single(nextId(), user(ALICE), user(BOB), amount(600)).linkedToNext(),
                TransferRequest.single(nextId(), user(ALICE), user(CAROL), amount(300)).linkedToNext(),
                TransferRequest.single(nextId(), user(ALICE), AccountKey.fees(USDC), amount(101))));
        assertThat(failed).containsExactly(TransferResult.LINKED_TRANSFER_FAILED,
                TransferResult.LINKED_TRANSFER_FAILED, TransferResult.INSUFFICIENT_FUNDS);
        assertThat(snapshot(dataSource, ledger)).isEqualTo(before);

        List<TransferRequest> payout = List.of(
                TransferRequest.single(nextId(), user(ALICE), user(BOB), amount(600)).linkedToNext(),
                TransferRequest.single(nextId(), user(ALICE), user(CAROL), amount(300)).linkedToNext(),
                TransferRequest.single(nextId(), user(ALICE), AccountKey.fees(USDC), amount(100)),
                TransferRequest.single(nextId(), user(BOB), user(CAROL), amount(1)));
        assertThat(ledger.submit(payout)).containsOnly(TransferResult.OK);
        assertThat(ledger.submit(payout)).containsOnly(TransferResult.EXISTS);
        assertThat(balance(ledger, user(CAROL))).isEqualTo(301);
        assertThat(count(dataSource, "SELECT count(DISTINCT link_group) FROM transfers WHERE link_group IS NOT NULL"))
                .isEqualTo(1);

        assertThat(ledger.submit(List.of(
                TransferRequest.single(nextId(), user(BOB), user(CAROL), amount(1)).linkedToNext())))
                .containsExactly(TransferResult.LINKED_GROUP_OPEN);
        assertSumsToZero(ledger.balances());
    }

    @Test
    void aLinkedGroupThatRepeatsAnIdFailsWholeAndTheLedgerGoesOn() {
        deposit(ledger, ALICE, 1_000);
        String before = snapshot(dataSource, ledger);
        TransferRequest pay = TransferRequest.single(nextId(), user(ALICE), user(BOB), amount(100));
        // The second member repeats the first: within the group it is EXISTS, and the group
        // (new and existing members together) fails, so the first member's write is undone and
        // the repeat must not be answered as an existing transfer either.
        List<TransferResult> results = ledger.submit(List.of(pay.linkedToNext(), pay.linkedToNext(),
                TransferRequest.single(nextId(), user(ALICE), user(CAROL), amount(1))));
        assertThat(results).containsOnly(TransferResult.LINKED_TRANSFER_FAILED);
        assertThat(snapshot(dataSource, ledger)).isEqualTo(before);

        assertThat(ledger.submit(pay)).isEqualTo(TransferResult.OK);
        assertThat(balance(ledger, user(BOB))).isEqualTo(100);
        assertSumsToZero(ledger.balances());
    }

    @Test
    void aLedgerRestartedOnTheSameDatabaseHasTheSameState() {
        deposit(ledger, ALICE, 1_000);
        TransferId hold = nextId();
        ledger.submit(List.of(
                TransferRequest.single(nextId(), user(ALICE), user(BOB), amount(250)),
                TransferRequest.hold(hold, user(ALICE), user(CAROL), amount(300), 60)));
        Map<AccountKey, AccountBalance> before = ledger.balances();
        ledger.close();

        ledger = Ledger.start(dataSource, config(), clock);
        assertThat(ledger.balances()).isEqualTo(before);
        assertThat(ledger.submit(TransferRequest.single(nextId(), user(ALICE), user(BOB), amount(451))))
                .as("the hold is still there after the restart").isEqualTo(TransferResult.INSUFFICIENT_FUNDS);
        assertThat(ledger.submit(TransferRequest.postFull(nextId(), hold))).isEqualTo(TransferResult.OK);
        assertThat(balance(ledger, user(CAROL))).isEqualTo(300);
        assertSumsToZero(ledger.balances());
    }

    @Test
    void onlyOneWriterPerDatabase() {
        assertThatThrownBy(() -> Ledger.start(dataSource, config(), clock))
                .isInstanceOf(LedgerException.class)
                .hasStackTraceContaining("writer lock");
    }

    @Test
    void aFailedCommitAcknowledgesNothingAndTheLedgerRecovers() throws Exception {
        deposit(ledger, ALICE, 1_000);
        Map<AccountKey, AccountBalance> before = ledger.balances();
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
            s.execute("ALTER TABLE transfers ADD CONSTRAINT not_777 CHECK (amount <> 777)");
        }
        assertThatThrownBy(() -> ledger.submit(
                TransferRequest.single(nextId(), user(ALICE), user(BOB), amount(777))))
                .isInstanceOf(LedgerException.class);
        assertThat(ledger.balances()).isEqualTo(before);
        assertThat(ledger.submit(TransferRequest.single(nextId(), user(ALICE), user(BOB), amount(400))))
                .as("in-memory state was reloaded, not left at 223 available")
                .isEqualTo(TransferResult.OK);
        assertThat(available(ledger, user(ALICE))).isEqualTo(600);
        assertSumsToZero(ledger.balances());
    }
}
