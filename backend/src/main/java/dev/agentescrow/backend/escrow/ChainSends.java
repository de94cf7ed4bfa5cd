package dev.agentescrow.backend.escrow;

import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.ChainClient;
import dev.agentescrow.chain.ContractRevertedException;
import dev.agentescrow.chain.MinedReceipt;
import dev.agentescrow.chain.PreparedTransaction;
import dev.agentescrow.chain.TxHash;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.stereotype.Component;
import org.springframework.transaction.support.TransactionTemplate;
import org.web3j.crypto.Credentials;

/**
 * The service's own transactions (the arbiter's resolutions, relayed acceptances, fee claims and
 * deposits), exactly once per purpose: a transaction is signed and stored ({@code chain_sends})
 * before its first broadcast, and afterwards only those bytes are broadcast again, so a retry, a
 * concurrent request or a restart never sends a second one. Each signing key is a lane with its own
 * nonce sequence, taken under a transaction-scoped advisory lock of the lane (on any instance): the
 * next nonce is above both the chain's pending count and every nonce stored for the lane, and a
 * lane's stored transactions not mined yet are broadcast again before a new one is signed (so a
 * crash between storing and broadcasting leaves no gap).
 */
@Component
public class ChainSends {
    private static final Logger log = LoggerFactory.getLogger(ChainSends.class);
    private static final Duration RECEIPT_POLL = Duration.ofMillis(100);

    /** Where a send stands. */
    public enum State { SIGNED, SUCCEEDED, FAILED, NONCE_LOST }

    /** A stored send: its purpose, transaction and state. */
    public record Sent(String purpose, Address signer, long nonce, String data, TxHash txHash, State state,
                       Long blockNumber) {
        public boolean mined() {
            return state == State.SUCCEEDED || state == State.FAILED;
        }
    }

    /** A purpose already sent with other data (e.g. another split of the same escrow's resolution). */
    public static final class PurposeConflictException extends RuntimeException {
        PurposeConflictException(String purpose) {
            super("a different transaction was sent for " + purpose);
        }
    }

    private final JdbcTemplate jdbc;
    private final ChainClient client;
    private final Clock clock;
    private final TransactionTemplate tx;
    private final ChainEscrowSettings settings;

    public ChainSends(JdbcTemplate jdbc, ChainClient client, Clock clock, DataSource dataSource,
                      ChainEscrowSettings settings) {
        this.jdbc = jdbc;
        this.client = client;
        this.clock = clock;
        this.tx = new TransactionTemplate(new DataSourceTransactionManager(dataSource));
        this.settings = settings;
    }

    public Optional<Sent> find(String purpose) {
        return jdbc.query("SELECT purpose, signer, nonce, data, tx_hash, state, block_number FROM backend.chain_sends"
                + " WHERE purpose = ?", (rs, n) -> new Sent(rs.getString(1), Address.of(rs.getString(2)), rs.getLong(3),
                rs.getString(4), new TxHash(rs.getString(5)), State.valueOf(rs.getString(6)),
                (Long) rs.getObject(7)), purpose).stream().findFirst();
    }

    /**
     * Sends {@code data} to {@code to} with {@code key} once for {@code purpose}: the stored send if
     * there is one (with the same data; else {@link PurposeConflictException}), else a new one signed
     * and stored first. Then broadcasts it (again) and waits up to the configured time for its
     * receipt. A call that would revert now throws the decoded
     * {@link ContractRevertedException} and stores nothing.
     */
    public Sent send(String purpose, Credentials key, Address to, String data) {
        Address signer = Address.of(key.getAddress());
        Sent stored = tx.execute(status -> {
            jdbc.queryForObject("SELECT pg_advisory_xact_lock(hashtext(?))", Object.class, "chain-send:" + signer.hex());
            Optional<Sent> existing = find(purpose);
            if (existing.isPresent()) {
                if (!existing.get().data().equals(data) || !existing.get().signer().equals(signer)) {
                    throw new PurposeConflictException(purpose);
                }
                return existing.get();
            }
            rebroadcastLane(signer);
            Long last = jdbc.queryForObject("SELECT max(nonce) FROM backend.chain_sends WHERE signer = ?", Long.class,
                    signer.hex());
            long nonce = Math.max(client.pendingNonce(signer), last == null ? 0 : last + 1);
            PreparedTransaction prepared = client.prepare(key, to, data, nonce);
            Timestamp now = Timestamp.from(clock.instant());
            jdbc.update("INSERT INTO backend.chain_sends (purpose, signer, nonce, to_address, data, raw_tx, tx_hash,"
                            + " state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'SIGNED', ?, ?)", purpose,
                    signer.hex(), nonce, to.hex(), data, prepared.rawTransactionHex(), prepared.txHash().value(), now, now);
            return new Sent(purpose, signer, nonce, data, prepared.txHash(), State.SIGNED, null);
        });
        return stored.mined() ? stored : complete(stored);
    }

    /** Broadcasts the lane's stored sends that are not mined yet, in nonce order (their bytes, again). */
    private void rebroadcastLane(Address signer) {
        List<String> pending = jdbc.queryForList("SELECT purpose FROM backend.chain_sends WHERE signer = ?"
                + " AND state = 'SIGNED' ORDER BY nonce", String.class, signer.hex());
        for (String purpose : pending) {
            PreparedTransaction prepared = prepared(purpose);
            try {
                if (client.broadcast(prepared) == ChainClient.BroadcastOutcome.NONCE_CONSUMED) {
                    mark(purpose, State.NONCE_LOST, null);
                }
            } catch (ContractRevertedException e) {
                log.warn("stored send {} ({}) reverts now: {}", purpose, prepared.txHash(), e.getMessage());
            }
        }
    }

    private PreparedTransaction prepared(String purpose) {
        return jdbc.queryForObject("SELECT tx_hash, nonce, raw_tx, signer, to_address FROM backend.chain_sends"
                        + " WHERE purpose = ?", (rs, n) -> new PreparedTransaction(new TxHash(rs.getString(1)), rs.getLong(2),
                        rs.getString(3), Address.of(rs.getString(4)), Address.of(rs.getString(5))), purpose);
    }

    /** Broadcasts a stored send again (its own bytes) and waits for its receipt; records the outcome. */
    public Sent complete(Sent sent) {
        PreparedTransaction prepared = prepared(sent.purpose());
        Instant deadline = clock.instant().plus(settings.sendTimeout());
        try {
            if (client.broadcast(prepared) == ChainClient.BroadcastOutcome.NONCE_CONSUMED) {
                mark(sent.purpose(), State.NONCE_LOST, null);
            }
        } catch (ContractRevertedException e) {
            // Hardhat answers a transaction that reverted while automining with its revert: it is mined as failed.
            log.warn("send {} ({}) reverted: {}", sent.purpose(), prepared.txHash(), e.getMessage());
        }
        while (true) {
            Optional<MinedReceipt> receipt = client.receipt(prepared.txHash());
            if (receipt.isPresent()) {
                State state = receipt.get().succeeded() ? State.SUCCEEDED : State.FAILED;
                mark(sent.purpose(), state, receipt.get().blockNumber());
                return find(sent.purpose()).orElseThrow();
            }
            Optional<Sent> now = find(sent.purpose());
            if (now.isPresent() && now.get().state() == State.NONCE_LOST) {
                return now.get();
            }
            if (clock.instant().isAfter(deadline)) {
                return find(sent.purpose()).orElseThrow();
            }
            try {
                Thread.sleep(RECEIPT_POLL);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return find(sent.purpose()).orElseThrow();
            }
        }
    }

    private void mark(String purpose, State state, Long blockNumber) {
        jdbc.update("UPDATE backend.chain_sends SET state = ?, block_number = ?, updated_at = ? WHERE purpose = ?",
                state.name(), blockNumber, Timestamp.from(clock.instant()), purpose);
    }
}
