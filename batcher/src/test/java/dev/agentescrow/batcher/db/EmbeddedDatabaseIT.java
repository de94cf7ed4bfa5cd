package dev.agentescrow.batcher.db;

import static org.assertj.core.api.Assertions.assertThat;

import dev.agentescrow.batcher.ledger.AccountKey;
import dev.agentescrow.batcher.ledger.AccountBalance;
import dev.agentescrow.batcher.ledger.Ledger;
import dev.agentescrow.batcher.ledger.LedgerConfig;
import dev.agentescrow.batcher.ledger.Token;
import dev.agentescrow.batcher.ledger.TokenRegistration;
import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.batcher.ledger.TransferRequest;
import dev.agentescrow.batcher.ledger.TransferResult;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import java.math.BigInteger;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The default embedded PostgreSQL keeps its data in the configured folder across restarts. */
class EmbeddedDatabaseIT {
    private static final Address TOKEN = Address.of("0x00000000000000000000000000000000000000c1");
    private static final Address AGENT = Address.of("0x000000000000000000000000000000000000a11c");

    @Test
    void dataSurvivesAStopAndStartOfTheEmbeddedServer(@TempDir Path dataDir) {
        LedgerConfig config = LedgerConfig.defaults(DatabaseConfig.embedded(dataDir.resolve("pg")));
        Clock clock = Clock.fixed(Instant.parse("2026-11-22T12:00:00Z"), ZoneOffset.UTC);
        AccountKey agent = AccountKey.user(AGENT, TOKEN);
        Map<AccountKey, AccountBalance> before;
        try (Ledger ledger = Ledger.open(config, clock)) {
            assertThat(ledger.registerToken(new Token(TOKEN, "USDC", 6), "test", "first start"))
                    .isEqualTo(TokenRegistration.REGISTERED);
            assertThat(ledger.submit(TransferRequest.single(TransferId.parse("0x1"), AccountKey.custody(TOKEN), agent,
                    Amount.of(5_000_000)))).isEqualTo(TransferResult.OK);
            before = ledger.balances();
        }
        try (Ledger ledger = Ledger.open(config, clock)) {
            assertThat(ledger.balances()).isEqualTo(before);
            assertThat(ledger.balance(agent).orElseThrow().available()).isEqualTo(BigInteger.valueOf(5_000_000));
            assertThat(ledger.registerToken(new Token(TOKEN, "USDC", 6), "test", "second start"))
                    .isEqualTo(TokenRegistration.ALREADY_REGISTERED);
            assertThat(ledger.submit(TransferRequest.single(TransferId.parse("0x1"), AccountKey.custody(TOKEN), agent,
                    Amount.of(5_000_000)))).isEqualTo(TransferResult.EXISTS);
        }
    }
}
