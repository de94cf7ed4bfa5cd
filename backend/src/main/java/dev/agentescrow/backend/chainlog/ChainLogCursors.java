package dev.agentescrow.backend.chainlog;

import dev.agentescrow.chain.Bytes32;
import java.sql.Timestamp;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import org.springframework.jdbc.core.JdbcTemplate;

/** The followers' cursors and retained block hashes (tables {@code chainlog_cursors}, {@code chainlog_blocks}). */
final class ChainLogCursors {
    /** Where a follower stands: the last block applied and its hash (null before the first range). */
    record Cursor(long blockNumber, Bytes32 blockHash) {
    }

    /** A retained block. */
    record Block(long number, Bytes32 hash) {
    }

    private final JdbcTemplate jdbc;
    private final Clock clock;

    ChainLogCursors(JdbcTemplate jdbc, Clock clock) {
        this.jdbc = jdbc;
        this.clock = clock;
    }

    /**
     * The follower's cursor, its row locked until the transaction ends; created before
     * {@code startBlock} on first use. Empty if another transaction holds it (another instance polls).
     */
    Optional<Cursor> lock(String follower, long startBlock) {
        jdbc.update("INSERT INTO backend.chainlog_cursors (follower, block_number, updated_at) VALUES (?, ?, ?)"
                + " ON CONFLICT (follower) DO NOTHING", follower, startBlock - 1, Timestamp.from(clock.instant()));
        List<Cursor> found = jdbc.query("SELECT block_number, block_hash FROM backend.chainlog_cursors"
                        + " WHERE follower = ? FOR UPDATE SKIP LOCKED",
                (rs, n) -> new Cursor(rs.getLong(1), rs.getString(2) == null ? null : Bytes32.fromHex(rs.getString(2))),
                follower);
        return found.stream().findFirst();
    }

    Optional<Cursor> read(String follower) {
        return jdbc.query("SELECT block_number, block_hash FROM backend.chainlog_cursors WHERE follower = ?",
                (rs, n) -> new Cursor(rs.getLong(1), rs.getString(2) == null ? null : Bytes32.fromHex(rs.getString(2))),
                follower).stream().findFirst();
    }

    void move(String follower, Cursor cursor) {
        jdbc.update("UPDATE backend.chainlog_cursors SET block_number = ?, block_hash = ?, updated_at = ?"
                        + " WHERE follower = ?", cursor.blockNumber(),
                cursor.blockHash() == null ? null : cursor.blockHash().hex(), Timestamp.from(clock.instant()), follower);
    }

    void retain(String follower, long number, Bytes32 hash) {
        jdbc.update("INSERT INTO backend.chainlog_blocks (follower, block_number, block_hash) VALUES (?, ?, ?)"
                        + " ON CONFLICT (follower, block_number) DO UPDATE SET block_hash = EXCLUDED.block_hash",
                follower, number, hash.hex());
    }

    /** Retained blocks below {@code below}, newest first. */
    List<Block> retainedBelow(String follower, long below) {
        return jdbc.query("SELECT block_number, block_hash FROM backend.chainlog_blocks WHERE follower = ?"
                        + " AND block_number < ? ORDER BY block_number DESC",
                (rs, n) -> new Block(rs.getLong(1), Bytes32.fromHex(rs.getString(2))), follower, below);
    }

    /** Forgets the blocks from {@code fromBlock} on (dropped by a reorganisation). */
    void forgetFrom(String follower, long fromBlock) {
        jdbc.update("DELETE FROM backend.chainlog_blocks WHERE follower = ? AND block_number >= ?", follower, fromBlock);
    }

    /** Forgets the blocks below {@code belowBlock} (deeper than the retained depth). */
    void pruneBelow(String follower, long belowBlock) {
        jdbc.update("DELETE FROM backend.chainlog_blocks WHERE follower = ? AND block_number < ?", follower, belowBlock);
    }
}
