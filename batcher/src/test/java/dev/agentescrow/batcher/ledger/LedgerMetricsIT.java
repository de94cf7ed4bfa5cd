package dev.agentescrow.batcher.ledger;

import static dev.agentescrow.batcher.ledger.LedgerFixtures.ALICE;
import static dev.agentescrow.batcher.ledger.LedgerFixtures.BOB;
import static dev.agentescrow.batcher.ledger.LedgerFixtures.amount;
import static dev.agentescrow.batcher.ledger.LedgerFixtures.deposit;
import static dev.agentescrow.batcher.ledger.LedgerFixtures.nextId;
import static dev.agentescrow.batcher.ledger.LedgerFixtures.user;
import static dev.agentescrow.batcher.testing.Conditions.awaitUntil;
import static org.assertj.core.api.Assertions.assertThat;

import dev.agentescrow.batcher.db.DatabaseConfig;
import dev.agentescrow.batcher.testing.EmbeddedPostgresExtension;
import dev.agentescrow.batcher.testing.TestDatabases;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(EmbeddedPostgresExtension.class)
class LedgerMetricsIT {

    @Test
    void countsAcceptedAndRejectedTransfersByReasonAndShowsTheQueue(TestDatabases databases) {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (Ledger ledger = Ledger.start(databases.create(), LedgerConfig.defaults(DatabaseConfig.embedded(Path.of("unused"))),
                Clock.systemUTC(), new LedgerMetrics(registry))) {
            LedgerFixtures.registerTokens(ledger);
            deposit(ledger, ALICE, 100);
            TransferRequest pay = TransferRequest.single(nextId(), user(ALICE), user(BOB), amount(60));

            assertThat(ledger.submit(List.of(pay, pay,
                    TransferRequest.single(nextId(), user(ALICE), user(BOB), amount(1_000)))))
                    .containsExactly(TransferResult.OK, TransferResult.EXISTS, TransferResult.INSUFFICIENT_FUNDS);
            assertThat(ledger.submitInputs(List.of(TransferInput.single("not-an-id", "0x1", "0x2", "0x3", "-5"))))
                    .singleElement().isNotEqualTo(TransferResult.OK);

            // The writer counts a group just after it completes its callers' futures.
            awaitUntil("the ledger counted every result", () -> registry.find("ledger.transfers").counters().stream()
                    .mapToDouble(c -> c.count()).sum() >= 5);
            assertThat(registry.get("ledger.transfers").tag("result", "ok").counter().count()).isEqualTo(2);
            assertThat(registry.get("ledger.transfers").tag("result", "exists").counter().count()).isEqualTo(1);
            assertThat(registry.get("ledger.transfers").tag("result", "insufficient_funds").counter().count())
                    .isEqualTo(1);
            double rejected = registry.get("ledger.transfers").tag("outcome", "rejected").counters().stream()
                    .mapToDouble(c -> c.count()).sum();
            assertThat(rejected).isEqualTo(2);
            assertThat(registry.get("ledger.queue.depth").gauge().value()).isZero();
            assertThat(registry.get("ledger.submissions.failed").counter().count()).isZero();
        }
    }
}
