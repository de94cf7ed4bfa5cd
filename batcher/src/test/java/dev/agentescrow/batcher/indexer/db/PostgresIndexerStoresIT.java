package dev.agentescrow.batcher.indexer.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.agentescrow.batcher.db.DatabaseConfig;
import dev.agentescrow.batcher.indexer.VaultEventSink.Outcome;
import dev.agentescrow.batcher.indexer.CustodyEvent;
import dev.agentescrow.batcher.indexer.CustodyHold;
import dev.agentescrow.batcher.indexer.IndexerCheckpoint;
import dev.agentescrow.batcher.ledger.AccountKey;
import dev.agentescrow.batcher.ledger.Ledger;
import dev.agentescrow.batcher.ledger.LedgerConfig;
import dev.agentescrow.batcher.ledger.Token;
import dev.agentescrow.batcher.testing.EmbeddedPostgresExtension;
import dev.agentescrow.batcher.testing.MutableClock;
import dev.agentescrow.batcher.testing.TestDatabases;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.Bytes32;
import dev.agentescrow.chain.LogPosition;
import dev.agentescrow.chain.TxHash;
import java.math.BigInteger;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(EmbeddedPostgresExtension.class)
class PostgresIndexerStoresIT {
    private static final Address USDC = Address.of("0x00000000000000000000000000000000000000c1");
    private static final Address UNKNOWN = Address.of("0x00000000000000000000000000000000000000ff");
    private static final Address ALICE = Address.of("0x000000000000000000000000000000000000a11c");
    private static final TxHash TX = new TxHash("0x" + "ab".repeat(32));
    private static final Bytes32 BLOCK = Bytes32.fromHex("0x" + "0b".repeat(32));

    private final MutableClock clock = new MutableClock(Instant.parse("2026-11-22T12:00:00Z"));
    private DataSource dataSource;
    private Ledger ledger;

    @BeforeEach
    void start(TestDatabases databases) {
        dataSource = databases.create();
        ledger = Ledger.start(dataSource, LedgerConfig.defaults(DatabaseConfig.embedded(Path.of("unused"))), clock);
        ledger.registerToken(new Token(USDC, "USDC", 6), "test", "fixture");
    }

    @AfterEach
    void stop() {
        ledger.close();
    }

    @Test
    void checkpointsAreStoredPerStreamAndOverwritten() {
        PostgresCheckpointStore store = new PostgresCheckpointStore(dataSource, clock);
        assertThat(store.load("deposits")).isEmpty();
        store.save("deposits", new IndexerCheckpoint(10, Bytes32.fromHex("0x" + "01".repeat(32))));
        store.save("other", new IndexerCheckpoint(3, Bytes32.fromHex("0x" + "03".repeat(32))));
        store.save("deposits", new IndexerCheckpoint(12, Bytes32.fromHex("0x" + "02".repeat(32))));

        PostgresCheckpointStore reopened = new PostgresCheckpointStore(dataSource, clock);
        assertThat(reopened.load("deposits"))
                .contains(new IndexerCheckpoint(12, Bytes32.fromHex("0x" + "02".repeat(32))));
        assertThat(reopened.load("other")).contains(new IndexerCheckpoint(3, Bytes32.fromHex("0x" + "03".repeat(32))));
    }

    private static CustodyHold hold(Address token, long logIndex, int ordinal, int incarnation) {
        return new CustodyHold(new CustodyEvent(CustodyEvent.Kind.DEPOSIT, token, ALICE, Amount.of(500),
                new LogPosition(TX, 7, logIndex, BLOCK), ordinal), incarnation, CustodyHold.State.PENDING);
    }

    @Test
    void holdsEachDepositOncePostsItOnceAndShowsItAsIncomingUntilPosted() throws Exception {
        LedgerVaultEventSink sink = new LedgerVaultEventSink(ledger);
        CustodyHold first = hold(USDC, 0, 0, 0);
        CustodyHold second = hold(USDC, 1, 1, 0);

        assertThat(sink.hold(first)).isEqualTo(Outcome.HELD);
        assertThat(sink.hold(first)).isEqualTo(Outcome.ALREADY_BOOKED);
        assertThat(sink.hold(second)).isEqualTo(Outcome.HELD);
        assertThat(ledger.balance(AccountKey.user(ALICE, USDC))).hasValueSatisfying(balance -> {
            assertThat(balance.incoming()).isEqualTo(BigInteger.valueOf(1_000));
            assertThat(balance.available()).isZero();
        });
        assertThat(sink.post(first)).isEqualTo(Outcome.CREDITED);
        assertThat(new LedgerVaultEventSink(ledger).post(first)).isEqualTo(Outcome.ALREADY_BOOKED);
        assertThat(sink.release(second)).isEqualTo(Outcome.VOIDED);
        assertThat(sink.release(second)).isEqualTo(Outcome.ALREADY_BOOKED);

        assertThat(ledger.balance(AccountKey.user(ALICE, USDC))).hasValueSatisfying(balance -> {
            assertThat(balance.balance()).isEqualTo(BigInteger.valueOf(500));
            assertThat(balance.incoming()).isZero();
        });
        assertThat(LedgerVaultEventSink.holdId(first)).isNotEqualTo(LedgerVaultEventSink.holdId(second))
                .isNotEqualTo(LedgerVaultEventSink.holdId(hold(USDC, 0, 0, 1)));
        try (Connection c = dataSource.getConnection();
             PreparedStatement s = c.prepareStatement("SELECT reference, timeout_seconds FROM transfers WHERE id = ?")) {
            s.setObject(1, LedgerVaultEventSink.holdId(first).toUuid());
            try (ResultSet rs = s.executeQuery()) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).isEqualTo("deposit:" + TX.value() + ":0");
                assertThat(rs.getLong(2)).isEqualTo(Integer.MAX_VALUE);
            }
        }
    }

    @Test
    void rejectsDepositsOfUnknownTokens() {
        LedgerVaultEventSink sink = new LedgerVaultEventSink(ledger);

        assertThat(sink.hold(hold(UNKNOWN, 2, 0, 0))).isEqualTo(Outcome.REJECTED);
        assertThat(ledger.balance(AccountKey.user(ALICE, UNKNOWN))).isEmpty();
    }

    @Test
    void custodyHoldsAreStoredWithAtMostOneLivePerEvent() {
        PostgresCheckpointStore store = new PostgresCheckpointStore(dataSource, clock);
        CustodyHold first = hold(USDC, 0, 0, 0);
        store.saveHold("deposits", first);
        assertThat(store.liveHold("deposits", first.event().key())).contains(first);
        assertThat(store.openHolds("deposits", 0)).containsExactly(first);
        assertThatThrownBy(() -> store.saveHold("deposits", hold(USDC, 0, 0, 1)))
                .as("a second live hold of one event").isInstanceOf(IllegalStateException.class);

        store.saveHold("deposits", first.with(CustodyHold.State.VOIDED));
        assertThat(store.liveHold("deposits", first.event().key())).isEmpty();
        assertThat(store.holdCount("deposits", first.event().key())).isEqualTo(1);
        CustodyHold again = hold(USDC, 0, 0, 1);
        store.saveHold("deposits", again.with(CustodyHold.State.REJECTED));
        assertThat(store.openHolds("deposits", 6)).containsExactly(again.with(CustodyHold.State.REJECTED));
        assertThat(store.openHolds("deposits", 7)).as("a refusal below the checkpoint is final").isEmpty();
        assertThat(store.liveHold("other", first.event().key())).isEmpty();
    }
}
