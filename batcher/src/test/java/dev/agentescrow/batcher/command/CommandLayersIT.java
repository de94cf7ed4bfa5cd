package dev.agentescrow.batcher.command;

import static org.assertj.core.api.Assertions.assertThat;

import dev.agentescrow.batcher.db.DatabaseConfig;
import dev.agentescrow.batcher.ledger.AccountKey;
import dev.agentescrow.batcher.ledger.Ledger;
import dev.agentescrow.batcher.ledger.LedgerConfig;
import dev.agentescrow.batcher.ledger.Token;
import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.batcher.ledger.TransferReceipt;
import dev.agentescrow.batcher.ledger.TransferResult;
import dev.agentescrow.batcher.read.AccountView;
import dev.agentescrow.batcher.read.LedgerReads;
import dev.agentescrow.batcher.testing.EmbeddedPostgresExtension;
import dev.agentescrow.batcher.testing.MutableClock;
import dev.agentescrow.batcher.testing.TestDatabases;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import java.math.BigInteger;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The two command layers over the ledger (issue 11): agents move only their own money; rules leave an audit row. */
@ExtendWith(EmbeddedPostgresExtension.class)
class CommandLayersIT {
    static final Address USDC = Address.of("0x00000000000000000000000000000000000000c1");
    static final Address ALICE = Address.of("0x000000000000000000000000000000000000a11c");
    static final Address BOB = Address.of("0x0000000000000000000000000000000000000b0b");
    static final Address MALLORY = Address.of("0x00000000000000000000000000000000000bad00");
    private static final AtomicLong IDS = new AtomicLong(1);

    private final MutableClock clock = new MutableClock(Instant.parse("2026-11-30T12:00:00Z"));
    private DataSource dataSource;
    private Ledger ledger;
    private LedgerReads reads;
    private AgentCommands agents;
    private ServiceCommands service;

    @BeforeEach
    void start(TestDatabases databases) {
        dataSource = databases.create();
        ledger = Ledger.start(dataSource, LedgerConfig.defaults(DatabaseConfig.embedded(Path.of("unused"))), clock);
        ledger.registerToken(new Token(USDC, "USDC", 6), "test", "fixture");
        reads = new LedgerReads(dataSource);
        agents = new AgentCommands(ledger, reads);
        service = new ServiceCommands(ledger, reads);
        deposit(ALICE, 1_000);
        deposit(BOB, 1_000);
    }

    @AfterEach
    void stop() {
        ledger.close();
    }

    private static TransferId id() {
        return new TransferId(0xC0DE, IDS.getAndIncrement());
    }

    private void deposit(Address owner, long units) {
        assertThat(ledger.submit(dev.agentescrow.batcher.ledger.TransferRequest.single(id(), AccountKey.custody(USDC),
                AccountKey.user(owner, USDC), Amount.of(units)))).isEqualTo(TransferResult.OK);
    }

    /** The account with every transfer committed so far (the rows catch up within a few groups). */
    private AccountView account(AccountKey key) {
        return reads.account(key, reads.lastCommittedSeq(), java.time.Duration.ofSeconds(10)).get().orElseThrow();
    }

    private BigInteger available(Address owner) {
        return account(AccountKey.user(owner, USDC)).available();
    }

    @Test
    void attack_agentCommandCannotDebitAnotherAccount() {
        TransferId hold = id();
        assertThat(agents.hold(ALICE, hold, BOB, USDC, Amount.of(100), 3_600, "task-1").result())
                .isEqualTo(TransferResult.OK);

        // Every debit is the caller's own: Mallory's pay debits Mallory, who holds nothing.
        assertThat(agents.pay(MALLORY, id(), BOB, USDC, Amount.of(1), null).result())
                .isEqualTo(TransferResult.INSUFFICIENT_FUNDS);
        assertThat(agents.withdraw(MALLORY, id(), USDC, Amount.of(1)).result())
                .isEqualTo(TransferResult.INSUFFICIENT_FUNDS);
        // Someone else's hold is "not found": neither a stranger nor the payee may release it,
        // and neither a stranger nor the payer may void it.
        assertThat(agents.release(MALLORY, id(), hold, Optional.empty()).result())
                .isEqualTo(TransferResult.PENDING_NOT_FOUND);
        assertThat(agents.release(BOB, id(), hold, Optional.empty()).result())
                .isEqualTo(TransferResult.PENDING_NOT_FOUND);
        assertThat(agents.refund(MALLORY, id(), hold).result()).isEqualTo(TransferResult.PENDING_NOT_FOUND);
        assertThat(agents.refund(ALICE, id(), hold).result()).isEqualTo(TransferResult.PENDING_NOT_FOUND);
        // A pay is not a hold: it cannot be "released" or "refunded" by anyone.
        TransferId pay = id();
        assertThat(agents.pay(ALICE, pay, BOB, USDC, Amount.of(5), null).result()).isEqualTo(TransferResult.OK);
        assertThat(agents.refund(BOB, id(), pay).result()).isEqualTo(TransferResult.PENDING_NOT_FOUND);
        // Reserved ids stay the system's.
        assertThat(agents.release(ALICE, TransferId.reserved(TransferId.Domain.PAYOUT, 1), hold, Optional.empty())
                .result()).isEqualTo(TransferResult.RESERVED_ID);
        assertThat(agents.pay(ALICE, TransferId.reserved(TransferId.Domain.DEPOSIT, 2), BOB, USDC, Amount.of(1), null)
                .result()).isEqualTo(TransferResult.RESERVED_ID);

        assertThat(available(ALICE)).isEqualTo(BigInteger.valueOf(895));
        assertThat(account(AccountKey.user(BOB, USDC)).incoming()).isEqualTo(BigInteger.valueOf(100));
        assertThat(reads.account(AccountKey.user(MALLORY, USDC)).get()).isEmpty();

        // The payer releases part of its own hold; the rest returns to it.
        TransferReceipt released = agents.release(ALICE, id(), hold, Optional.of(Amount.of(60)));
        assertThat(released.result()).isEqualTo(TransferResult.OK);
        assertThat(available(ALICE)).isEqualTo(BigInteger.valueOf(935));
        assertThat(available(BOB)).isEqualTo(BigInteger.valueOf(1_065));
        // The payee gives up another hold: the money returns to the payer.
        TransferId second = id();
        agents.hold(ALICE, second, BOB, USDC, Amount.of(50), 3_600, null);
        assertThat(agents.refund(BOB, id(), second).result()).isEqualTo(TransferResult.OK);
        assertThat(available(ALICE)).isEqualTo(BigInteger.valueOf(935));
    }

    @Test
    void attack_payAllDebitsOnlyTheCaller_allOrNoneCommitsNothingWhenOneFails() {
        // Mallory's batch names Alice's payee and token but debits Mallory, who holds nothing.
        List<TransferReceipt> stolen = agents.payAll(MALLORY, List.of(
                new AgentCommands.Payment(id(), BOB, USDC, Amount.of(1), null),
                new AgentCommands.Payment(id(), ALICE, USDC, Amount.of(1), null)), false);
        assertThat(stolen).extracting(TransferReceipt::result)
                .containsExactly(TransferResult.INSUFFICIENT_FUNDS, TransferResult.INSUFFICIENT_FUNDS);
        // All or none: the second payment is too large, so the first is not written either.
        List<TransferReceipt> linked = agents.payAll(ALICE, List.of(
                new AgentCommands.Payment(id(), BOB, USDC, Amount.of(10), "a"),
                new AgentCommands.Payment(id(), BOB, USDC, Amount.of(5_000), "b")), true);
        assertThat(linked).extracting(TransferReceipt::result)
                .containsExactly(TransferResult.LINKED_TRANSFER_FAILED, TransferResult.INSUFFICIENT_FUNDS);
        // Each on its own: the first commits with its seq and time, the second is refused.
        List<TransferReceipt> each = agents.payAll(ALICE, List.of(
                new AgentCommands.Payment(id(), BOB, USDC, Amount.of(10), "a"),
                new AgentCommands.Payment(id(), BOB, USDC, Amount.of(5_000), "b")), false);
        assertThat(each.get(0).result()).isEqualTo(TransferResult.OK);
        assertThat(each.get(0).seq()).isPositive();
        assertThat(each.get(0).committedAt()).isNotNull();
        assertThat(each.get(1).result()).isEqualTo(TransferResult.INSUFFICIENT_FUNDS);
        assertThat(available(ALICE)).isEqualTo(BigInteger.valueOf(990));
        assertThat(available(BOB)).isEqualTo(BigInteger.valueOf(1_010));
        assertThat(reads.account(AccountKey.user(MALLORY, USDC)).get()).isEmpty();
    }

    @Test
    void escrowAccount_twoPartialReleasesThenTheRestRefunded_overReleaseRefusedByTheBalanceCheck() throws SQLException {
        String escrow = "task-42";
        AccountKey escrowAccount = AccountKey.escrowFunds(escrow, USDC);
        assertThat(agents.fundEscrow(ALICE, id(), escrow, USDC, Amount.of(100)).result()).isEqualTo(TransferResult.OK);
        assertThat(account(escrowAccount).available()).isEqualTo(BigInteger.valueOf(100));

        TransferId first = id();
        List<TransferReceipt> firstRelease = service.payOutOfEscrow(ServiceRule.EVALUATOR_RELEASE, "evaluator:0xe1",
                escrow, USDC, List.of(new ServiceCommands.Share(first, AccountKey.user(BOB, USDC), Amount.of(30))),
                "milestone 1 accepted");
        assertThat(firstRelease).extracting(TransferReceipt::result).containsExactly(TransferResult.OK);
        List<TransferReceipt> second = service.payOutOfEscrow(ServiceRule.EVALUATOR_RELEASE, "evaluator:0xe1", escrow,
                USDC, List.of(new ServiceCommands.Share(id(), AccountKey.user(BOB, USDC), Amount.of(20)),
                        new ServiceCommands.Share(id(), AccountKey.fees(USDC), Amount.of(2))),
                "milestone 2 accepted, 1% fee");
        assertThat(second).extracting(TransferReceipt::result).containsExactly(TransferResult.OK, TransferResult.OK);
        assertThat(account(escrowAccount).available()).isEqualTo(BigInteger.valueOf(48));

        long auditBefore = auditRows();
        List<TransferReceipt> over = service.payOutOfEscrow(ServiceRule.ARBITER_SPLIT, "arbiter:0xa1", escrow, USDC,
                List.of(new ServiceCommands.Share(id(), AccountKey.user(BOB, USDC), Amount.of(40)),
                        new ServiceCommands.Share(id(), AccountKey.user(ALICE, USDC), Amount.of(9))),
                "split beyond what is left");
        assertThat(over).extracting(TransferReceipt::result)
                .containsExactly(TransferResult.LINKED_TRANSFER_FAILED, TransferResult.INSUFFICIENT_FUNDS);
        assertThat(auditRows()).isEqualTo(auditBefore);
        assertThat(account(escrowAccount).available()).isEqualTo(BigInteger.valueOf(48));

        // A replay of the first release changes nothing and writes no second audit row.
        List<TransferReceipt> replay = service.payOutOfEscrow(ServiceRule.EVALUATOR_RELEASE, "evaluator:0xe1",
                escrow, USDC, List.of(new ServiceCommands.Share(first, AccountKey.user(BOB, USDC), Amount.of(30))),
                "milestone 1 accepted");
        assertThat(replay).extracting(TransferReceipt::result).containsExactly(TransferResult.EXISTS);
        assertThat(replay.getFirst().seq()).isEqualTo(firstRelease.getFirst().seq());
        assertThat(auditRows()).isEqualTo(auditBefore);

        TransferId refundId = id();
        TransferReceipt refund = service.refundRest(ServiceRule.DEADLINE_REFUND, "scheduler", escrow, USDC, ALICE,
                refundId, "deadline passed").orElseThrow();
        assertThat(refund.result()).isEqualTo(TransferResult.OK);
        assertThat(service.refundRest(ServiceRule.DEADLINE_REFUND, "scheduler", escrow, USDC, ALICE, refundId,
                "deadline passed")).hasValueSatisfying(r -> assertThat(r.result()).isEqualTo(TransferResult.EXISTS));
        assertThat(service.refundRest(ServiceRule.DEADLINE_REFUND, "scheduler", escrow, USDC, ALICE, id(),
                "nothing left")).isEmpty();
        assertThat(account(escrowAccount).available()).isZero();
        assertThat(available(ALICE)).isEqualTo(BigInteger.valueOf(948));
        assertThat(available(BOB)).isEqualTo(BigInteger.valueOf(1_050));
        assertThat(account(AccountKey.fees(USDC)).posted()).isEqualTo(BigInteger.valueOf(2));

        List<String> audit = new ArrayList<>();
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT actor, action, subject, amount, transfer_id IS NOT NULL, token"
                     + " FROM audit_log WHERE transfer_id IS NOT NULL ORDER BY id")) {
            while (rs.next()) {
                audit.add(rs.getString(1) + " " + rs.getString(2) + " " + rs.getString(3) + " "
                        + rs.getBigDecimal(4).toBigIntegerExact() + " " + rs.getBoolean(5) + " " + rs.getString(6));
            }
        }
        assertThat(audit).containsExactly(
                "evaluator:0xe1 EVALUATOR_RELEASE escrow:task-42 30 true " + USDC.hex(),
                "evaluator:0xe1 EVALUATOR_RELEASE escrow:task-42 20 true " + USDC.hex(),
                "evaluator:0xe1 EVALUATOR_RELEASE escrow:task-42 2 true " + USDC.hex(),
                "scheduler DEADLINE_REFUND escrow:task-42 48 true " + USDC.hex());
    }

    @Test
    void serviceCommandsOnHoldsAndFees_writeAnAuditRowEach() throws SQLException {
        TransferId hold = id();
        agents.hold(ALICE, hold, BOB, USDC, Amount.of(80), 3_600, "task-7");
        assertThat(service.postHold(ServiceRule.ARBITER_RELEASE, "arbiter:0xa1", "task:task-7", id(), hold,
                Optional.of(Amount.of(50)), "dispute decided for the payee").result()).isEqualTo(TransferResult.OK);
        TransferId other = id();
        agents.hold(ALICE, other, BOB, USDC, Amount.of(10), 3_600, "task-8");
        assertThat(service.voidHold(ServiceRule.SCHEDULED_EXPIRY, "scheduler", "task:task-8", id(), other,
                "task cancelled").result()).isEqualTo(TransferResult.OK);
        agents.pay(ALICE, id(), BOB, USDC, Amount.of(1), null);
        assertThat(ledger.submit(dev.agentescrow.batcher.ledger.TransferRequest.single(id(), AccountKey.user(BOB, USDC),
                AccountKey.fees(USDC), Amount.of(9)))).isEqualTo(TransferResult.OK);
        assertThat(service.distributeFees("operator", USDC,
                List.of(new ServiceCommands.Share(id(), AccountKey.user(MALLORY, USDC), Amount.of(9))),
                "monthly fee share").getFirst().result()).isEqualTo(TransferResult.OK);
        assertThat(available(MALLORY)).isEqualTo(BigInteger.valueOf(9));
        assertThat(available(ALICE)).isEqualTo(BigInteger.valueOf(949));

        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT action, actor, amount FROM audit_log"
                     + " WHERE transfer_id IS NOT NULL ORDER BY id")) {
            List<String> rows = new ArrayList<>();
            while (rs.next()) {
                rows.add(rs.getString(1) + " " + rs.getString(2) + " " + rs.getBigDecimal(3).toBigIntegerExact());
            }
            assertThat(rows).containsExactly("ARBITER_RELEASE arbiter:0xa1 50", "SCHEDULED_EXPIRY scheduler 10",
                    "FEE_DISTRIBUTION operator 9");
        }
    }

    private long auditRows() throws SQLException {
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM audit_log")) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
