package dev.agentescrow.backend.channel;

import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import dev.agentescrow.chain.Bytes32;
import dev.agentescrow.chain.LogPosition;
import dev.agentescrow.chain.TxHash;
import dev.agentescrow.chain.channel.ChannelEvent;
import dev.agentescrow.chain.channel.ChannelNonce;
import dev.agentescrow.chain.channel.ChannelState;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * The channels' rows in schema {@code backend}: the contract's confirmed events, the channels
 * folded from them, the stored proofs, the registrations and the watchtower's submissions.
 */
@Component
public class ChannelStore {
    private static final String CHANNEL_COLUMNS = "id, token, participant_a, participant_b, key_a, key_b, state,"
            + " challenge_period, deposit_a, withdrawn_a, nonce_a, transferred_a, unclaimed_a, deposit_b, withdrawn_b,"
            + " nonce_b, transferred_b, unclaimed_b, closer, closes_at, payout_a, payout_b, cooperative, updated_block,"
            + " position";

    /** {@link #lockForProofs}: the channel's row locked, with its newest proofs and registrations. */
    private static final String LOCK_FOR_PROOFS = "SELECT " + java.util.Arrays.stream(CHANNEL_COLUMNS.split(", "))
            .map(c -> "c." + c).collect(java.util.stream.Collectors.joining(", "))
            + ", ARRAY(SELECT r.participant FROM backend.channel_registrations r"
            + " WHERE r.channel_id = c.id)::text[], p.channel_id, p.signer, p.nonce, p.transferred, p.signature,"
            + " p.digest, p.stored_by, p.stored_at FROM backend.channels c LEFT JOIN backend.channel_proofs p"
            + " ON p.channel_id = c.id WHERE c.id = ? FOR NO KEY UPDATE OF c";

    private final JdbcTemplate jdbc;

    public ChannelStore(JdbcTemplate jdbc) {
        this.jdbc = jdbc;
    }

    // ------------------------------------------------------------------ events and cursor

    /** Stores {@code contract}'s events (a replay of a stored position writes nothing); the channels they touch. */
    public Set<Bytes32> insertEvents(Address contract, List<ChannelEvent> events) {
        Set<Bytes32> touched = new LinkedHashSet<>();
        for (ChannelEvent e : events) {
            Object[] f = fields(e);
            LogPosition p = e.position();
            jdbc.update("INSERT INTO backend.channel_events (contract, block_number, log_index, block_hash, tx_hash,"
                            + " channel_id, kind, address1, address2, address3, address4, amount1, amount2, nonce, seconds,"
                            + " flag) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    contract.hex(), p.blockNumber(), p.logIndex(), p.blockHash().hex(), p.txHash().value(), e.channelId().hex(),
                    e.getClass().getSimpleName(), f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8]);
            touched.add(e.channelId());
        }
        return touched;
    }

    /** Deletes {@code contract}'s events of blocks after {@code block} (dropped by a reorganisation); the channels they touched. */
    public Set<Bytes32> deleteEventsAfter(Address contract, long block) {
        Set<Bytes32> touched = new LinkedHashSet<>();
        jdbc.query("DELETE FROM backend.channel_events WHERE contract = ? AND block_number > ? RETURNING channel_id",
                rs -> {
                    touched.add(Bytes32.fromHex(rs.getString(1)));
                }, contract.hex(), block);
        return touched;
    }

    /** An event published for a channel from one of its indexed logs, as the outbox holds it. */
    public record PublishedEvent(String eventId, String type, String channelId, List<Address> recipients, String txHash,
                                 long blockNumber) {
    }

    /**
     * The events published for the logs of blocks from {@code fromBlock} on of {@code channels}
     * ({@code channel.*} events carrying a {@code blockNumber}) that no retraction names yet.
     */
    public List<PublishedEvent> publishedFrom(Set<Bytes32> channels, long fromBlock) {
        if (channels.isEmpty()) {
            return List.of();
        }
        return jdbc.query("SELECT e.id::text, e.type, e.object_id, e.recipients::text[], e.data::jsonb->>'txHash',"
                        + " (e.data::jsonb->>'blockNumber')::bigint FROM backend.events e WHERE e.object_id = ANY(?)"
                        + " AND e.type LIKE 'channel.%' AND e.type <> 'channel.retracted'"
                        + " AND (e.data::jsonb->>'blockNumber') IS NOT NULL AND (e.data::jsonb->>'blockNumber')::bigint >= ?"
                        + " AND NOT EXISTS (SELECT 1 FROM backend.events r WHERE r.dedupe_key = 'channel-retracted:' || e.id)"
                        + " ORDER BY e.inserted",
                (rs, n) -> new PublishedEvent(rs.getString(1), rs.getString(2), rs.getString(3),
                        java.util.Arrays.stream((String[]) rs.getArray(4).getArray()).map(String::strip)
                                .map(Address::of).toList(), rs.getString(5), rs.getLong(6)),
                channels.stream().map(Bytes32::hex).toArray(String[]::new), fromBlock);
    }

    /** The channel's stored events in chain order. */
    public List<ChannelEvent> events(Bytes32 channelId) {
        return jdbc.query("SELECT block_number, log_index, block_hash, tx_hash, kind, address1, address2, address3,"
                + " address4, amount1, amount2, nonce, seconds, flag, channel_id FROM backend.channel_events"
                + " WHERE channel_id = ? ORDER BY block_number, log_index", (rs, n) -> event(rs), channelId.hex());
    }

    /** Deposits and withdrawals of a channel: kind, participant, amount, total, tx hash, block. */
    public record Movement(String kind, Address participant, BigInteger amount, BigInteger total, String txHash,
                           long block) {
    }

    public List<Movement> movements(Bytes32 channelId) {
        List<Movement> out = new ArrayList<>();
        for (ChannelEvent e : events(channelId)) {
            switch (e) {
                case ChannelEvent.Opened o when o.depositA().baseUnits().signum() > 0 -> out.add(new Movement("DEPOSIT",
                        o.participantA(), o.depositA().baseUnits(), o.depositA().baseUnits(),
                        o.position().txHash().value(), o.position().blockNumber()));
                case ChannelEvent.Accepted a when a.depositB().baseUnits().signum() > 0 -> out.add(new Movement(
                        "DEPOSIT", a.participantB(), a.depositB().baseUnits(), a.depositB().baseUnits(),
                        a.position().txHash().value(), a.position().blockNumber()));
                case ChannelEvent.Deposited d -> out.add(new Movement("DEPOSIT", d.participant(),
                        d.amount().baseUnits(), d.totalDeposit().baseUnits(), d.position().txHash().value(),
                        d.position().blockNumber()));
                case ChannelEvent.Withdrawn w -> out.add(new Movement("WITHDRAWAL", w.participant(),
                        w.amount().baseUnits(), w.totalWithdrawn().baseUnits(), w.position().txHash().value(),
                        w.position().blockNumber()));
                default -> {
                }
            }
        }
        return out;
    }

    private static Object[] fields(ChannelEvent e) {
        return switch (e) {
            case ChannelEvent.Opened o -> new Object[] {o.participantA().hex(), o.participantB().hex(), o.token().hex(),
                    o.signingKeyA().hex(), dec(o.depositA()), null, null, o.challengePeriod().toSeconds(), null};
            case ChannelEvent.Accepted a -> new Object[] {a.participantB().hex(), a.signingKeyB().hex(), null, null,
                    dec(a.depositB()), null, null, null, null};
            case ChannelEvent.Deposited d -> new Object[] {d.participant().hex(), null, null, null, dec(d.amount()),
                    dec(d.totalDeposit()), null, null, null};
            case ChannelEvent.Withdrawn w -> new Object[] {w.participant().hex(), null, null, null, dec(w.amount()),
                    dec(w.totalWithdrawn()), null, null, null};
            case ChannelEvent.Closed c -> new Object[] {c.closer().hex(), null, null, null, dec(c.transferred()), null,
                    new BigDecimal(c.nonce().value()), c.closesAt().getEpochSecond(), null};
            case ChannelEvent.BalanceProofUpdated u -> new Object[] {u.participant().hex(), u.submitter().hex(), null,
                    null, dec(u.transferred()), null, new BigDecimal(u.nonce().value()), null, null};
            case ChannelEvent.Settled s -> new Object[] {null, null, null, null, dec(s.payoutA()), dec(s.payoutB()),
                    null, null, s.cooperative()};
            case ChannelEvent.PaidOut p -> new Object[] {p.participant().hex(), p.to().hex(), null, null,
                    dec(p.amount()), null, null, null, null};
            case ChannelEvent.PayoutRefused r -> new Object[] {r.participant().hex(), null, null, null,
                    dec(r.amount()), null, null, null, null};
        };
    }

    private static ChannelEvent event(ResultSet rs) throws SQLException {
        LogPosition p = new LogPosition(new TxHash(rs.getString(4).strip()), rs.getLong(1), rs.getLong(2),
                Bytes32.fromHex(rs.getString(3)));
        Bytes32 id = Bytes32.fromHex(rs.getString(15));
        Address a1 = addr(rs, 6);
        Address a2 = addr(rs, 7);
        return switch (rs.getString(5)) {
            case "Opened" -> new ChannelEvent.Opened(id, a1, a2, addr(rs, 8), addr(rs, 9), amount(rs, 10),
                    Duration.ofSeconds(rs.getLong(13)), p);
            case "Accepted" -> new ChannelEvent.Accepted(id, a1, a2, amount(rs, 10), p);
            case "Deposited" -> new ChannelEvent.Deposited(id, a1, amount(rs, 10), amount(rs, 11), p);
            case "Withdrawn" -> new ChannelEvent.Withdrawn(id, a1, amount(rs, 10), amount(rs, 11), p);
            case "Closed" -> new ChannelEvent.Closed(id, a1, new ChannelNonce(big(rs, 12)), amount(rs, 10),
                    Instant.ofEpochSecond(rs.getLong(13)), p);
            case "BalanceProofUpdated" -> new ChannelEvent.BalanceProofUpdated(id, a1, a2,
                    new ChannelNonce(big(rs, 12)), amount(rs, 10), p);
            case "Settled" -> new ChannelEvent.Settled(id, amount(rs, 10), amount(rs, 11), rs.getBoolean(14), p);
            case "PaidOut" -> new ChannelEvent.PaidOut(id, a1, a2, amount(rs, 10), p);
            case "PayoutRefused" -> new ChannelEvent.PayoutRefused(id, a1, amount(rs, 10), p);
            default -> throw new IllegalStateException("unknown stored channel event " + rs.getString(5));
        };
    }

    // ------------------------------------------------------------------ channels

    /** A channel with its list position (the keyset cursor). */
    public record Listed(Channel channel, long position) {
    }

    /** Writes the channel as folded (insert or replace). */
    public void save(Channel c) {
        jdbc.update("INSERT INTO backend.channels (id, token, participant_a, participant_b, key_a, key_b, state,"
                        + " challenge_period, deposit_a, withdrawn_a, nonce_a, transferred_a, unclaimed_a, deposit_b,"
                        + " withdrawn_b, nonce_b, transferred_b, unclaimed_b, closer, closes_at, payout_a, payout_b,"
                        + " cooperative, updated_block)"
                        + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                        + " ON CONFLICT (id) DO UPDATE SET key_b = EXCLUDED.key_b, state = EXCLUDED.state,"
                        + " deposit_a = EXCLUDED.deposit_a, withdrawn_a = EXCLUDED.withdrawn_a, nonce_a = EXCLUDED.nonce_a,"
                        + " transferred_a = EXCLUDED.transferred_a, unclaimed_a = EXCLUDED.unclaimed_a,"
                        + " deposit_b = EXCLUDED.deposit_b, withdrawn_b = EXCLUDED.withdrawn_b, nonce_b = EXCLUDED.nonce_b,"
                        + " transferred_b = EXCLUDED.transferred_b, unclaimed_b = EXCLUDED.unclaimed_b,"
                        + " closer = EXCLUDED.closer, closes_at = EXCLUDED.closes_at, payout_a = EXCLUDED.payout_a,"
                        + " payout_b = EXCLUDED.payout_b, cooperative = EXCLUDED.cooperative,"
                        + " updated_block = EXCLUDED.updated_block",
                c.id().hex(), c.token().hex(), c.a().hex(), c.b().hex(), c.keyA().hex(),
                c.keyB() == null ? null : c.keyB().hex(), c.state().name(), c.challengePeriodSeconds(),
                dec(c.sideA().deposit()), dec(c.sideA().withdrawn()), dec(c.sideA().nonce()),
                dec(c.sideA().transferred()), dec(c.sideA().unclaimed()), dec(c.sideB().deposit()),
                dec(c.sideB().withdrawn()), dec(c.sideB().nonce()), dec(c.sideB().transferred()),
                dec(c.sideB().unclaimed()), c.closer() == null ? null : c.closer().hex(),
                c.closesAt() == null ? null : Timestamp.from(c.closesAt()), dec(c.payoutA()), dec(c.payoutB()),
                c.cooperative(), c.updatedBlock());
    }

    /** Removes a channel whose open a reorganisation undid (with its proofs and registrations). */
    public void delete(Bytes32 id) {
        jdbc.update("DELETE FROM backend.channel_proofs WHERE channel_id = ?", id.hex());
        jdbc.update("DELETE FROM backend.channel_proof_receipts WHERE channel_id = ?", id.hex());
        jdbc.update("DELETE FROM backend.channel_registrations WHERE channel_id = ?", id.hex());
        jdbc.update("DELETE FROM backend.channels WHERE id = ?", id.hex());
    }

    public Optional<Channel> find(Bytes32 id) {
        return jdbc.query("SELECT " + CHANNEL_COLUMNS + " FROM backend.channels WHERE id = ?", (rs, n) -> row(rs).channel(),
                id.hex()).stream().findFirst();
    }

    /** {@code participant}'s channels, newest first, before position {@code before} (0: from the newest). */
    public List<Listed> list(Address participant, ChannelState state, long before, int limit) {
        List<Object> args = new ArrayList<>();
        StringBuilder sql = new StringBuilder("SELECT ").append(CHANNEL_COLUMNS)
                .append(" FROM backend.channels WHERE (participant_a = ? OR participant_b = ?)");
        args.add(participant.hex());
        args.add(participant.hex());
        if (state != null) {
            sql.append(" AND state = ?");
            args.add(state.name());
        }
        if (before > 0) {
            sql.append(" AND position < ?");
            args.add(before);
        }
        sql.append(" ORDER BY position DESC LIMIT ?");
        args.add(limit);
        return jdbc.query(sql.toString(), (rs, n) -> row(rs), args.toArray());
    }

    /** Closing channels whose challenge period has not ended by {@code now}. */
    public List<Channel> closing(Instant now, int limit) {
        return jdbc.query("SELECT " + CHANNEL_COLUMNS + " FROM backend.channels WHERE state = 'CLOSING' AND closes_at > ?"
                + " ORDER BY closes_at LIMIT ?", (rs, n) -> row(rs).channel(), Timestamp.from(now), limit);
    }

    private static Listed row(ResultSet rs) throws SQLException {
        Channel c = new Channel(Bytes32.fromHex(rs.getString(1)), addr(rs, 2), addr(rs, 3), addr(rs, 4), addr(rs, 5),
                addr(rs, 6), ChannelState.valueOf(rs.getString(7)), rs.getLong(8),
                new Channel.Side(big(rs, 9), big(rs, 10), big(rs, 11), big(rs, 12), big(rs, 13)),
                new Channel.Side(big(rs, 14), big(rs, 15), big(rs, 16), big(rs, 17), big(rs, 18)), addr(rs, 19),
                rs.getTimestamp(20) == null ? null : rs.getTimestamp(20).toInstant(), big(rs, 21), big(rs, 22),
                (Boolean) rs.getObject(23), rs.getLong(24));
        return new Listed(c, rs.getLong(25));
    }

    // ------------------------------------------------------------------ proofs

    /** A stored proof: signed by {@code signer}'s key, stored by its counterparty. */
    public record StoredProof(Bytes32 channelId, Address signer, BigInteger nonce, BigInteger transferred,
                              String signature, Bytes32 digest, Address storedBy, Instant storedAt) {
    }

    /** What a group of proofs is decided against: the channel, the newest proof of each signer, who registered. */
    public record ProofState(Channel channel, List<StoredProof> newest, Set<Address> registered) {
    }

    /**
     * The channel with its newest proofs and registrations, in one read, its row locked until the
     * transaction ends ({@code FOR NO KEY UPDATE}): the proof groups of every instance, and the
     * indexer's folds, take their turns on it, so a group is decided against a state that cannot
     * change before it commits.
     */
    public Optional<ProofState> lockForProofs(Bytes32 id) {
        List<ProofState> rows = new ArrayList<>();
        jdbc.query(LOCK_FOR_PROOFS,
                rs -> {
                    if (rows.isEmpty()) {
                        Set<Address> registered = new LinkedHashSet<>();
                        for (String who : (String[]) rs.getArray(26).getArray()) {
                            registered.add(Address.of(who.strip()));
                        }
                        rows.add(new ProofState(row(rs).channel(), new ArrayList<>(), registered));
                    }
                    if (rs.getString(27) != null) {
                        rows.getFirst().newest().add(storedProof(rs, 27));
                    }
                }, id.hex());
        return rows.stream().findFirst();
    }

    /**
     * The channel's receipts of {@code signers} among {@code digests} (a replayed proof's receipt; the
     * caller matches signer and digest). Every column of the key is bound, with the columns' own type
     * (a {@code text[]} would cast the column and rule the index out), so each (signer, digest) is one
     * probe of the key's index, however many receipts the channel keeps: before, a replay read every
     * receipt of its channel.
     */
    public List<StoredProof> receipts(Bytes32 channelId, Set<Address> signers, Set<Bytes32> digests) {
        if (digests.isEmpty() || signers.isEmpty()) {
            return List.of();
        }
        return jdbc.query(RECEIPTS, (rs, n) -> storedProof(rs, 1), channelId.hex(),
                signers.stream().map(Address::hex).toArray(String[]::new),
                digests.stream().map(Bytes32::hex).toArray(String[]::new));
    }

    static final String RECEIPTS = "SELECT channel_id, signer, nonce, transferred, signature, digest, stored_by, stored_at"
            + " FROM backend.channel_proof_receipts WHERE channel_id = ?"
            + " AND signer = ANY(CAST(? AS CHAR(42)[])) AND digest = ANY(CAST(? AS CHAR(66)[]))";

    /**
     * Deletes up to {@code limit} receipts stored before {@code cutoff}, oldest first; how many. A
     * replay of such a proof is then answered 409 {@code CHANNEL_PROOF_STALE} unless it is still the
     * newest of its direction, which {@code channel_proofs} answers.
     */
    public int deleteReceiptsBefore(Instant cutoff, int limit) {
        return jdbc.update("DELETE FROM backend.channel_proof_receipts WHERE ctid = ANY (ARRAY("
                + "SELECT ctid FROM backend.channel_proof_receipts WHERE stored_at < ? ORDER BY stored_at LIMIT ?))",
                Timestamp.from(cutoff), limit);
    }

    /**
     * Writes a group of one channel in one statement: the receipt of every accepted proof
     * ({@code accepted}; a digest recorded before is kept) and the newest proof of each signer
     * ({@code newest}, at most one per signer) if it is newer than the stored one (a larger nonce and
     * a total at least as large: the one place of the rule "newer" in SQL); the number of signers'
     * rows written.
     */
    public int writeGroup(Bytes32 channelId, List<StoredProof> newest, List<StoredProof> accepted) {
        return jdbc.queryForObject("WITH receipts AS (INSERT INTO backend.channel_proof_receipts (channel_id, digest,"
                        + " signer, nonce, transferred, signature, stored_by, stored_at) SELECT ?, u.digest, u.signer,"
                        + " u.nonce::numeric, u.transferred::numeric, u.signature, u.stored_by, u.stored_at::timestamptz"
                        + " FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[])"
                        + " AS u(digest, signer, nonce, transferred, signature, stored_by, stored_at)"
                        + " ON CONFLICT (channel_id, signer, digest) DO NOTHING),"
                        + " written AS (INSERT INTO backend.channel_proofs (channel_id, signer, nonce, transferred,"
                        + " signature, digest, stored_by, stored_at) SELECT ?, u.signer, u.nonce::numeric,"
                        + " u.transferred::numeric, u.signature, u.digest, u.stored_by, u.stored_at::timestamptz"
                        + " FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[])"
                        + " AS u(digest, signer, nonce, transferred, signature, stored_by, stored_at)"
                        + " ON CONFLICT (channel_id, signer) DO UPDATE SET nonce = EXCLUDED.nonce,"
                        + " transferred = EXCLUDED.transferred, signature = EXCLUDED.signature, digest = EXCLUDED.digest,"
                        + " stored_by = EXCLUDED.stored_by, stored_at = EXCLUDED.stored_at"
                        + " WHERE channel_proofs.nonce < EXCLUDED.nonce AND channel_proofs.transferred <= EXCLUDED.transferred"
                        + " RETURNING 1) SELECT count(*)::int FROM written", Integer.class,
                java.util.stream.Stream.concat(java.util.Arrays.stream(unnested(channelId, accepted)),
                        java.util.Arrays.stream(unnested(channelId, newest))).toArray());
    }

    /** The channel and the proofs' columns as arrays, in the order the statements unnest them. */
    private static Object[] unnested(Bytes32 channelId, List<StoredProof> proofs) {
        return new Object[] {channelId.hex(), column(proofs, p -> p.digest().hex()), column(proofs, p -> p.signer().hex()),
                column(proofs, p -> p.nonce().toString()), column(proofs, p -> p.transferred().toString()),
                column(proofs, StoredProof::signature), column(proofs, p -> p.storedBy().hex()),
                column(proofs, p -> p.storedAt().toString())};
    }

    private static String[] column(List<StoredProof> proofs, java.util.function.Function<StoredProof, String> field) {
        return proofs.stream().map(field).toArray(String[]::new);
    }

    /** A stored proof from 8 columns from {@code first} on: channel, signer, nonce, total, signature, digest, by, at. */
    private static StoredProof storedProof(ResultSet rs, int first) throws SQLException {
        return new StoredProof(Bytes32.fromHex(rs.getString(first)), addr(rs, first + 1), big(rs, first + 2),
                big(rs, first + 3), rs.getString(first + 4).strip(), Bytes32.fromHex(rs.getString(first + 5)),
                addr(rs, first + 6), rs.getTimestamp(first + 7).toInstant());
    }

    public Optional<StoredProof> proof(Bytes32 channelId, Address signer) {
        return jdbc.query("SELECT channel_id, signer, nonce, transferred, signature, digest, stored_by, stored_at"
                + " FROM backend.channel_proofs WHERE channel_id = ? AND signer = ?", (rs, n) -> storedProof(rs, 1),
                channelId.hex(), signer.hex()).stream().findFirst();
    }

    // ------------------------------------------------------------------ registrations

    /** A participant's registration of a channel. */
    public record Registration(Bytes32 channelId, Address participant, boolean watchtower, Instant registeredAt) {
    }

    /** Registers (or re-registers with another watchtower choice); {@code watchtower} null keeps the stored choice. */
    public Registration register(Bytes32 channelId, Address participant, Boolean watchtower, Instant now) {
        return jdbc.queryForObject("INSERT INTO backend.channel_registrations (channel_id, participant, watchtower,"
                        + " registered_at, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (channel_id, participant)"
                        + " DO UPDATE SET watchtower = COALESCE(?, channel_registrations.watchtower), updated_at = ?"
                        + " RETURNING channel_id, participant, watchtower, registered_at",
                (rs, n) -> new Registration(Bytes32.fromHex(rs.getString(1)), addr(rs, 2), rs.getBoolean(3),
                        rs.getTimestamp(4).toInstant()),
                channelId.hex(), participant.hex(), watchtower == null || watchtower, Timestamp.from(now),
                Timestamp.from(now), watchtower, Timestamp.from(now));
    }

    public Optional<Registration> registration(Bytes32 channelId, Address participant) {
        return jdbc.query("SELECT channel_id, participant, watchtower, registered_at FROM backend.channel_registrations"
                        + " WHERE channel_id = ? AND participant = ?", (rs, n) -> new Registration(
                        Bytes32.fromHex(rs.getString(1)), addr(rs, 2), rs.getBoolean(3), rs.getTimestamp(4).toInstant()),
                channelId.hex(), participant.hex()).stream().findFirst();
    }

    // ------------------------------------------------------------------ helpers

    static BigDecimal dec(BigInteger value) {
        return value == null ? null : new BigDecimal(value);
    }

    private static BigDecimal dec(Amount amount) {
        return new BigDecimal(amount.baseUnits());
    }

    static BigInteger big(ResultSet rs, int column) throws SQLException {
        BigDecimal value = rs.getBigDecimal(column);
        return value == null ? null : value.toBigIntegerExact();
    }

    private static Amount amount(ResultSet rs, int column) throws SQLException {
        return Amount.of(big(rs, column));
    }

    static Address addr(ResultSet rs, int column) throws SQLException {
        String value = rs.getString(column);
        return value == null ? null : Address.of(value.strip());
    }
}
