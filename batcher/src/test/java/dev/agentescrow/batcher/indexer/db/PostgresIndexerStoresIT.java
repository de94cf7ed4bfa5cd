package dev.agentescrow.batcher.indexer.db;

import static org.assertj.core.api.Assertions.assertThat;

import dev.agentescrow.batcher.db.DatabaseConfig;
import dev.agentescrow.batcher.indexer.VaultEventSink.Outcome;
import dev.agentescrow.batcher.indexer.IndexerCheckpoint;
import dev.agentescrow.batcher.ledger.AccountBalance;
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
import dev.agentescrow.chain.vault.VaultDeposit;
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

    @Test
    void creditsEachDepositPositionExactlyOnce() throws Exception {
        LedgerVaultEventSink sink = new LedgerVaultEventSink(ledger);
        VaultDeposit first = new VaultDeposit(USDC, ALICE, 1, Amount.of(500), new LogPosition(TX, 7, 0));
        VaultDeposit second = new VaultDeposit(USDC, ALICE, 1, Amount.of(500), new LogPosition(TX, 7, 1));

        assertThat(sink.credit(first)).isEqualTo(Outcome.CREDITED);
        assertThat(sink.credit(first)).isEqualTo(Outcome.ALREADY_BOOKED);
        assertThat(sink.credit(second)).isEqualTo(Outcome.CREDITED);
        assertThat(new LedgerVaultEventSink(ledger).credit(second)).isEqualTo(Outcome.ALREADY_BOOKED);

        assertThat(ledger.balance(AccountKey.user(ALICE, USDC)).map(AccountBalance::balance))
                .contains(BigInteger.valueOf(1_000));
        assertThat(LedgerVaultEventSink.transferId(first.position()))
                .isNotEqualTo(LedgerVaultEventSink.transferId(second.position()));
        try (Connection c = dataSource.getConnection();
             PreparedStatement s = c.prepareStatement("SELECT reference FROM transfers WHERE id = ?")) {
            s.setObject(1, LedgerVaultEventSink.transferId(first.position()).toUuid());
            try (ResultSet rs = s.executeQuery()) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).isEqualTo("deposit:" + TX.value() + ":0");
            }
        }
    }

    @Test
    void rejectsDepositsOfUnknownTokens() {
        LedgerVaultEventSink sink = new LedgerVaultEventSink(ledger);
        VaultDeposit deposit = new VaultDeposit(UNKNOWN, ALICE, 1, Amount.of(5), new LogPosition(TX, 7, 2));

        assertThat(sink.credit(deposit)).isEqualTo(Outcome.REJECTED);
        assertThat(ledger.balance(AccountKey.user(ALICE, UNKNOWN))).isEmpty();
    }
}
