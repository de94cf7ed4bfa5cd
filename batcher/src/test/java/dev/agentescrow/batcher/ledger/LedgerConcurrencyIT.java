package dev.agentescrow.batcher.ledger;

import static dev.agentescrow.batcher.ledger.LedgerFixtures.USDC;
import static org.assertj.core.api.Assertions.assertThat;

import dev.agentescrow.batcher.db.DatabaseConfig;
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
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Many threads submit transfers at once, some of which must fail for lack of funds. Replaying
 * the committed transfers sequentially in commit order must never overdraw anyone and must give
 * exactly the ledger's final balances; the committed set must be exactly the OK results.
 */
@ExtendWith(EmbeddedPostgresExtension.class)
class LedgerConcurrencyIT {
    private static final int THREADS = 16;
    private static final int TRANSFERS_PER_THREAD = 400;
    private static final int USERS = 20;

    @Test
    void concurrentSubmissionsEqualASequentialReplay(TestDatabases databases) throws Exception {
        DataSource dataSource = databases.create();
        List<AccountKey> users = new ArrayList<>();
        for (int i = 1; i <= USERS; i++) {
            users.add(AccountKey.user(Address.of(String.format("0x%040x", 0xC000 + i)), USDC));
        }
        Map<TransferId, TransferRequest> ok = new ConcurrentHashMap<>();
        try (Ledger ledger = Ledger.start(dataSource,
                LedgerConfig.defaults(DatabaseConfig.embedded(Path.of("unused"))), new MutableClock(Instant.EPOCH))) {
            LedgerFixtures.registerTokens(ledger);
            List<TransferRequest> deposits = new ArrayList<>();
            for (int i = 0; i < USERS; i++) {
                deposits.add(TransferRequest.single(new TransferId(1, i), AccountKey.custody(USDC), users.get(i),
                        Amount.of(10_000)));
            }
            assertThat(ledger.submit(deposits)).containsOnly(TransferResult.OK);
            deposits.forEach(d -> ok.put(d.id(), d));

            ExecutorService pool = Executors.newFixedThreadPool(THREADS);
            List<Future<Integer>> done = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                int thread = t;
                done.add(pool.submit(() -> {
                    Random random = new Random(thread);
                    int failures = 0;
                    for (int i = 0; i < TRANSFERS_PER_THREAD; i++) {
                        AccountKey from = users.get(random.nextInt(USERS));
                        AccountKey to = users.get((users.indexOf(from) + 1 + random.nextInt(USERS - 1)) % USERS);
                        TransferRequest request = TransferRequest.single(new TransferId(2 + thread, i), from, to,
                                Amount.of(1 + random.nextInt(3_000)));
                        TransferResult result = ledger.submit(request);
                        if (result == TransferResult.OK) {
                            ok.put(request.id(), request);
                        } else {
                            assertThat(result).isEqualTo(TransferResult.INSUFFICIENT_FUNDS);
                            failures++;
                        }
                    }
                    return failures;
                }));
            }
            int failures = 0;
            for (Future<Integer> f : done) {
                failures += f.get();
            }
            pool.shutdown();
            assertThat(failures).as("the workload must exercise insufficient funds").isPositive();

            Map<AccountKey, BigInteger> replayed = new HashMap<>();
            Set<TransferId> committed = new HashSet<>();
            for (TransferId id : committedInOrder(dataSource)) {
                committed.add(id);
                TransferRequest r = ok.get(id);
                assertThat(r).as("committed but not acknowledged OK: %s", id).isNotNull();
                replayed.merge(r.debit(), r.amount().baseUnits().negate(), BigInteger::add);
                replayed.merge(r.credit(), r.amount().baseUnits(), BigInteger::add);
                if (r.debit().kind() == AccountKind.USER) {
                    assertThat(replayed.get(r.debit())).as("overdrawn at %s", id).isNotNegative();
                }
            }
            assertThat(committed).isEqualTo(ok.keySet());
            Map<AccountKey, AccountBalance> balances = ledger.balances();
            replayed.forEach((key, value) -> assertThat(balances.get(key).balance()).as("%s", key).isEqualTo(value));
            LedgerFixtures.assertSumsToZero(balances);
        }
    }

    private static List<TransferId> committedInOrder(DataSource dataSource) throws SQLException {
        List<TransferId> ids = new ArrayList<>();
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT id FROM transfers ORDER BY seq")) {
            while (rs.next()) {
                ids.add(TransferId.of(rs.getObject(1, java.util.UUID.class)));
            }
        }
        return ids;
    }
}
