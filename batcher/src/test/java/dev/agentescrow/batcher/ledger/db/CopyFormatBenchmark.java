package dev.agentescrow.batcher.ledger.db;

import dev.agentescrow.batcher.db.Database;
import dev.agentescrow.batcher.db.DatabaseConfig;
import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.batcher.ledger.TransferKind;
import dev.agentescrow.chain.Address;
import java.io.ByteArrayInputStream;
import java.io.StringReader;
import java.math.BigInteger;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import org.postgresql.PGConnection;

/**
 * The COPY of a group's transfers in CSV (what {@code LedgerStore} sends) against PostgreSQL's
 * binary COPY format as the ledger encodes it ({@link BinaryCopy}), on a table shaped like {@code transfers} (same columns, checks and
 * indexes), in alternating rounds on one embedded PostgreSQL with synchronous commit on: the time
 * of encoding, COPY and COMMIT per group, and the bytes sent per row. Arguments: data directory,
 * rounds, rows per group.
 */
public final class CopyFormatBenchmark {
    private static final String COLUMNS = "id, seq, kind, debit_account_id, credit_account_id, token, amount,"
            + " pending_id, timeout_seconds, expires_at, link_group, reference, created_at";
    private static final Address TOKEN = Address.of("0x00000000000000000000000000000000000000c1");

    private CopyFormatBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        Path dataDir = Path.of(args.length > 0 ? args[0] : "batcher/target/bench-copy-pg");
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 40;
        int rowsPerGroup = args.length > 2 ? Integer.parseInt(args[2]) : 500;
        try (Database database = Database.start(DatabaseConfig.embedded(dataDir).withPoolSize(2));
             Connection c = database.dataSource().getConnection()) {
            try (Statement s = c.createStatement()) {
                s.execute("DROP TABLE IF EXISTS copy_bench");
                s.execute("""
                        CREATE TABLE copy_bench (
                            id UUID PRIMARY KEY, seq BIGINT NOT NULL UNIQUE,
                            kind VARCHAR(8) NOT NULL CHECK (kind IN ('SINGLE', 'PENDING', 'POST', 'VOID', 'EXPIRE')),
                            debit_account_id BIGINT NOT NULL, credit_account_id BIGINT NOT NULL,
                            token CHAR(42) NOT NULL, amount NUMERIC(78,0) NOT NULL CHECK (amount > 0),
                            pending_id UUID, timeout_seconds INTEGER, expires_at TIMESTAMPTZ, link_group UUID,
                            reference VARCHAR(128), created_at TIMESTAMPTZ NOT NULL, batch_id BIGINT,
                            CHECK (debit_account_id <> credit_account_id))""");
                s.execute("CREATE INDEX copy_bench_unbatched ON copy_bench (seq) WHERE batch_id IS NULL");
                s.execute("CREATE INDEX copy_bench_debit ON copy_bench (debit_account_id, seq)");
                s.execute("CREATE INDEX copy_bench_credit ON copy_bench (credit_account_id, seq)");
            }
            c.setAutoCommit(false);
            long seq = 0;
            long[][] nanos = new long[2][rounds];
            long[] bytes = new long[2];
            for (int round = 0; round < rounds * 2; round++) {
                int format = round % 2;
                List<TransferRow> rows = new ArrayList<>(rowsPerGroup);
                ThreadLocalRandom random = ThreadLocalRandom.current();
                Instant now = Instant.now();
                for (int i = 0; i < rowsPerGroup; i++) {
                    long debit = random.nextInt(1_000);
                    rows.add(new TransferRow(new TransferId(random.nextLong() & Long.MAX_VALUE, random.nextLong()), ++seq,
                            TransferKind.SINGLE, debit, (debit + 1 + random.nextInt(999)) % 1_000, TOKEN,
                            BigInteger.valueOf(1 + random.nextInt(1_000)), null, null, null, null, null, now));
                }
                long t0 = System.nanoTime();
                long rowsCopied;
                PGConnection pg = c.unwrap(PGConnection.class);
                if (format == 0) {
                    String csv = csv(rows);
                    bytes[0] += csv.length();
                    rowsCopied = pg.getCopyAPI().copyIn("COPY copy_bench (" + COLUMNS + ") FROM STDIN (FORMAT csv)",
                            new StringReader(csv));
                } else {
                    byte[] binary = BinaryCopy.transfers(rows, false);
                    bytes[1] += binary.length;
                    rowsCopied = pg.getCopyAPI().copyIn("COPY copy_bench (" + COLUMNS + ") FROM STDIN (FORMAT binary)",
                            new ByteArrayInputStream(binary));
                }
                c.commit();
                if (rowsCopied != rowsPerGroup) {
                    throw new SQLException("copied " + rowsCopied + " of " + rowsPerGroup);
                }
                nanos[format][round / 2] = System.nanoTime() - t0;
            }
            for (int format = 0; format < 2; format++) {
                long[] sorted = nanos[format].clone();
                Arrays.sort(sorted);
                System.out.printf(Locale.ROOT, "%-6s groups of %d: median %.2f ms, mean %.2f ms per group, %.0f bytes"
                                + " per row%n", format == 0 ? "csv" : "binary", rowsPerGroup, sorted[rounds / 2] / 1e6,
                        Arrays.stream(sorted).average().orElse(0) / 1e6,
                        bytes[format] / (double) (rounds * rowsPerGroup));
            }
        }
    }

    /** The CSV the ledger sent before binary COPY: the baseline. */
    private static String csv(List<TransferRow> rows) {
        StringBuilder csv = new StringBuilder(rows.size() * 220);
        for (TransferRow t : rows) {
            csv.append(t.id().toUuid()).append(',').append(t.seq()).append(",SINGLE,").append(t.debitAccountId())
                    .append(',').append(t.creditAccountId()).append(',').append(TOKEN.hex()).append(',').append(t.amount())
                    .append(",,,,,,").append(t.createdAt()).append('\n');
        }
        return csv.toString();
    }
}
