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
 *
 * <p>A broadcast the node answers "nonce already used" is checked against the chain first: if the
 * send's own transaction is mined, that is its outcome; else another sender of the same key took the
 * nonce, the attempt is recorded as lost ({@code chain_send_lost}, it can never be mined) and the
 * same call is signed again with a fresh nonce of the lane (attempt + 1), under the lane's lock and
 * only if the send is still the lost attempt, and only while the contract would still accept the call
 * (a call that would revert now stays {@code NONCE_LOST}: its intent is gone). So the intent is
 * carried out at most once, and it is carried out.
 */
@Component
public class ChainSends {
    private static final Logger log = LoggerFactory.getLogger(ChainSends.class);
    private static final Duration RECEIPT_POLL = Duration.ofMillis(100);
    /** Lost nonces signed again within one call at most (a key shared this busily is misconfigured). */
    private static final int MAX_RETRIES_PER_CALL = 3;

    /** Where a send stands. */
    public enum State { SIGNED, SUCCEEDED, FAILED, NONCE_LOST }

    /** A stored send: its purpose, transaction and state. */
    public record Sent(String purpose, Address signer, long nonce, String data, TxHash txHash, State state,
                       Long blockNumber, int attempt) {
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
        return jdbc.query("SELECT purpose, signer, nonce, data, tx_hash, state, block_number, attempt"
                + " FROM backend.chain_sends WHERE purpose = ?", (rs, n) -> new Sent(rs.getString(1),
                Address.of(rs.getString(2)), rs.getLong(3), rs.getString(4), new TxHash(rs.getString(5)),
                State.valueOf(rs.getString(6)), (Long) rs.getObject(7), rs.getInt(8)), purpose).stream().findFirst();
    }

    /**
     * Sends {@code data} to {@code to} with {@code key} once for {@code purpose}: the stored send if
     * there is one (with the same data; else {@link PurposeConflictException}), else a new one signed
     * and stored first. Then broadcasts it (again) and waits up to the configured time for its
     * receipt. A call that would revert now throws the decoded
     * {@link ContractRevertedException} and stores nothing.
     */
    public Sent send(String purpose, Credentials key, Address to, String data) {
        Sent stored = sign(purpose, key, to, data);
        return stored.mined() ? stored : complete(stored, key);
    }

    /**
     * The first phase of {@link #send}: the stored send of {@code purpose} (same data, else
     * {@link PurposeConflictException}), or a new one signed with the lane's next nonce and stored,
     * not broadcast yet.
     */
    Sent sign(String purpose, Credentials key, Address to, String data) {
        Address signer = Address.of(key.getAddress());
        return tx.execute(status -> {
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
            return new Sent(purpose, signer, nonce, data, prepared.txHash(), State.SIGNED, null, 1);
        });
    }

    /** Broadcasts the lane's stored sends that are not mined yet, in nonce order (their bytes, again). */
    private void rebroadcastLane(Address signer) {
        List<String> pending = jdbc.queryForList("SELECT purpose FROM backend.chain_sends WHERE signer = ?"
                + " AND state = 'SIGNED' ORDER BY nonce", String.class, signer.hex());
        for (String purpose : pending) {
            PreparedTransaction prepared = prepared(purpose);
            try {
                if (client.broadcast(prepared) == ChainClient.BroadcastOutcome.NONCE_CONSUMED) {
                    nonceConsumed(purpose, prepared);
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

    /**
     * Broadcasts a stored send again (its own bytes) and waits for its receipt; records the outcome.
     * A send whose nonce another sender of {@code key} used is signed again with a fresh nonce (see
     * the class) and that attempt completed in turn.
     */
    public Sent complete(Sent sent, Credentials key) {
        if (!Address.of(key.getAddress()).equals(sent.signer())) {
            throw new IllegalArgumentException("send " + sent.purpose() + " is signed by " + sent.signer());
        }
        Sent attempt = find(sent.purpose()).orElseThrow();
        for (int retries = 0; retries <= MAX_RETRIES_PER_CALL; retries++) {
            if (attempt.mined()) {
                return attempt;
            }
            if (attempt.state() == State.SIGNED) {
                attempt = await(attempt);
            }
            if (attempt.state() != State.NONCE_LOST) {
                return attempt;
            }
            Optional<Sent> again = retry(attempt, key);
            if (again.isEmpty()) {
                return find(sent.purpose()).orElseThrow();
            }
            attempt = again.get();
        }
        return attempt;
    }

    /** Broadcasts the stored attempt (its own bytes) and waits up to the send timeout for its receipt. */
    private Sent await(Sent sent) {
        PreparedTransaction prepared = prepared(sent.purpose());
        Instant deadline = clock.instant().plus(settings.sendTimeout());
        try {
            if (client.broadcast(prepared) == ChainClient.BroadcastOutcome.NONCE_CONSUMED) {
                nonceConsumed(sent.purpose(), prepared);
            }
        } catch (ContractRevertedException e) {
            // Hardhat answers a transaction that reverted while automining with its revert: it is mined as failed.
            log.warn("send {} ({}) reverted: {}", sent.purpose(), prepared.txHash(), e.getMessage());
        }
        while (true) {
            Optional<Sent> now = find(sent.purpose());
            if (now.isPresent() && (now.get().state() == State.NONCE_LOST || now.get().mined()
                    || !now.get().txHash().equals(prepared.txHash()))) {
                return now.get();
            }
            Optional<MinedReceipt> receipt = client.receipt(prepared.txHash());
            if (receipt.isPresent()) {
                State state = receipt.get().succeeded() ? State.SUCCEEDED : State.FAILED;
                markAttempt(sent.purpose(), prepared.txHash(), state, receipt.get().blockNumber());
                return find(sent.purpose()).orElseThrow();
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

    /**
     * The node says the attempt's nonce is used: its own transaction mined (then that is the outcome)
     * or another sender's; only the second is {@code NONCE_LOST}.
     */
    private void nonceConsumed(String purpose, PreparedTransaction prepared) {
        Optional<MinedReceipt> own = client.receipt(prepared.txHash());
        if (own.isPresent()) {
            markAttempt(purpose, prepared.txHash(), own.get().succeeded() ? State.SUCCEEDED : State.FAILED,
                    own.get().blockNumber());
        } else {
            markAttempt(purpose, prepared.txHash(), State.NONCE_LOST, null);
        }
    }

    /**
     * Signs a lost attempt's call again with the lane's next nonce, under the lane's lock, if the send
     * is still that lost attempt, its transaction is still not mined, and the contract would accept the
     * call now; empty otherwise (the send as it stands is the answer).
     */
    private Optional<Sent> retry(Sent lost, Credentials key) {
        Address signer = lost.signer();
        return tx.execute(status -> {
            jdbc.queryForObject("SELECT pg_advisory_xact_lock(hashtext(?))", Object.class, "chain-send:" + signer.hex());
            Optional<Sent> current = find(lost.purpose());
            if (current.isEmpty() || current.get().state() != State.NONCE_LOST
                    || !current.get().txHash().equals(lost.txHash())) {
                return current.filter(c -> !c.mined() && c.state() == State.SIGNED);
            }
            Optional<MinedReceipt> own = client.receipt(lost.txHash());
            if (own.isPresent()) {
                markAttempt(lost.purpose(), lost.txHash(), own.get().succeeded() ? State.SUCCEEDED : State.FAILED,
                        own.get().blockNumber());
                return Optional.<Sent>empty();
            }
            PreparedTransaction previous = prepared(lost.purpose());
            Long last = jdbc.queryForObject("SELECT max(nonce) FROM backend.chain_sends WHERE signer = ?", Long.class,
                    signer.hex());
            long nonce = Math.max(client.pendingNonce(signer), last == null ? 0 : last + 1);
            PreparedTransaction prepared;
            try {
                prepared = client.prepare(key, previous.to(), lost.data(), nonce);
            } catch (ContractRevertedException gone) {
                log.warn("send {}: its nonce {} was used by another sender of {} and the call reverts now ({}): not"
                        + " sent again", lost.purpose(), lost.nonce(), signer, gone.getMessage());
                return Optional.<Sent>empty();
            }
            Timestamp now = Timestamp.from(clock.instant());
            jdbc.update("INSERT INTO backend.chain_send_lost (purpose, attempt, signer, nonce, tx_hash, lost_at)"
                    + " VALUES (?, ?, ?, ?, ?, ?)", lost.purpose(), lost.attempt(), signer.hex(), lost.nonce(),
                    lost.txHash().value(), now);
            jdbc.update("UPDATE backend.chain_sends SET nonce = ?, raw_tx = ?, tx_hash = ?, state = 'SIGNED',"
                            + " block_number = NULL, attempt = attempt + 1, updated_at = ? WHERE purpose = ?", nonce,
                    prepared.rawTransactionHex(), prepared.txHash().value(), now, lost.purpose());
            log.warn("send {}: nonce {} was used by another sender of {}; signed again with nonce {} ({})",
                    lost.purpose(), lost.nonce(), signer, nonce, prepared.txHash());
            return find(lost.purpose());
        });
    }

    /** Records the outcome of the attempt {@code txHash} (nothing if the send has moved on to another attempt). */
    private void markAttempt(String purpose, TxHash txHash, State state, Long blockNumber) {
        jdbc.update("UPDATE backend.chain_sends SET state = ?, block_number = ?, updated_at = ? WHERE purpose = ?"
                + " AND tx_hash = ?", state.name(), blockNumber, Timestamp.from(clock.instant()), purpose, txHash.value());
    }
}
