package dev.agentescrow.backend.channel;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Deletes the receipts of accepted balance proofs stored more than
 * {@link ChannelSettings#proofReceiptRetention()} ago, oldest first, at most {@link #STEP_SIZE} per
 * transaction under a transaction-scoped advisory lock (one instance at a time), at most
 * {@link #RUN_BUDGET} a run. A receipt only answers the replay of a proof that a newer one has since
 * replaced (200 {@code replayed}); past the retention such a replay is answered 409
 * {@code CHANNEL_PROOF_STALE}, which is what it is. The newest proof of each direction needs no
 * receipt ({@code channel_proofs} answers its replay), so nothing the watchtower, a close or a
 * settlement reads is deleted. A crash between steps leaves only older receipts for the next run.
 */
@Component
public class ProofReceiptRetention {
    private static final Logger log = LoggerFactory.getLogger(ProofReceiptRetention.class);

    /** Receipts deleted per transaction. */
    static final int STEP_SIZE = 5_000;
    /** The advisory lock key of this retention ("receipt" in ASCII). */
    static final long LOCK_KEY = 0x72656365697074L;
    /** The longest one run deletes before it leaves the rest to the next. */
    static final Duration RUN_BUDGET = Duration.ofSeconds(20);

    private final ChannelStore store;
    private final JdbcTemplate jdbc;
    private final TransactionTemplate transactions;
    private final Clock clock;
    private final Duration retention;
    private final Counter deleted;

    public ProofReceiptRetention(ChannelStore store, JdbcTemplate jdbc, TransactionTemplate transactions, Clock clock,
                                 ChannelSettings settings, MeterRegistry registry) {
        this.store = store;
        this.jdbc = jdbc;
        this.transactions = transactions;
        this.clock = clock;
        this.retention = settings.proofReceiptRetention();
        this.deleted = Counter.builder("agentescrow.channels.proof.receipts.deleted")
                .description("receipts of replaced balance proofs deleted after the retention period").register(registry);
    }

    @Scheduled(fixedDelayString = "${agentescrow.channels.proof-receipt-retention-interval:PT1M}",
            initialDelayString = "${agentescrow.channels.proof-receipt-retention-interval:PT1M}")
    public void run() {
        try {
            int count = deleteOlderThan(clock.instant().minus(retention));
            if (count > 0) {
                log.info("proof receipt retention: deleted {} receipts older than {}", count, retention);
            }
        } catch (RuntimeException e) {
            log.warn("proof receipt retention step failed; retrying at the next run: {}", e.toString());
        }
    }

    /** Deletes the receipts stored before {@code cutoff}, step by step, for at most {@link #RUN_BUDGET}; how many. */
    public int deleteOlderThan(Instant cutoff) {
        long deadline = System.nanoTime() + RUN_BUDGET.toNanos();
        int total = 0;
        while (System.nanoTime() < deadline) {
            Integer step = transactions.execute(status -> {
                Boolean locked = jdbc.queryForObject("SELECT pg_try_advisory_xact_lock(?)", Boolean.class, LOCK_KEY);
                return Boolean.TRUE.equals(locked) ? store.deleteReceiptsBefore(cutoff, STEP_SIZE) : -1;
            });
            if (step == null || step < 0) {
                break;
            }
            total += step;
            deleted.increment(step);
            if (step < STEP_SIZE) {
                break;
            }
        }
        return total;
    }
}
