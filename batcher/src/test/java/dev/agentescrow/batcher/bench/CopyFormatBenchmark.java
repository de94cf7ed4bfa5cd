package dev.agentescrow.batcher.bench;

import dev.agentescrow.batcher.db.Database;
import dev.agentescrow.batcher.db.DatabaseConfig;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.StringReader;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.Arrays;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import org.postgresql.PGConnection;

/**
 * The COPY of a group's transfers in CSV (what {@code LedgerStore} sends) against PostgreSQL's
 * binary COPY format, on a table shaped like {@code transfers} (same columns, checks and
 * indexes), in alternating rounds on one embedded PostgreSQL with synchronous commit on: the time
 * of encoding, COPY and COMMIT per group, and the bytes sent per row. Arguments: data directory,
 * rounds, rows per group.
 */
public final class CopyFormatBenchmark {
    private static final String COLUMNS = "id, seq, kind, debit_account_id, credit_account_id, token, amount,"
            + " pending_id, timeout_seconds, expires_at, link_group, reference, created_at";
    private static final long POSTGRES_EPOCH_MICROS = 946_684_800_000_000L;
    private static final String TOKEN = "0x00000000000000000000000000000000000000c1";

    private CopyFormatBenchmark() {
    }

    record Row(UUID id, long seq, long debit, long credit, BigInteger amount, Instant createdAt) {
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
                Row[] rows = new Row[rowsPerGroup];
                ThreadLocalRandom random = ThreadLocalRandom.current();
                Instant now = Instant.now();
                for (int i = 0; i < rowsPerGroup; i++) {
                    long debit = random.nextInt(1_000);
                    rows[i] = new Row(new UUID(random.nextLong() & Long.MAX_VALUE, random.nextLong()), ++seq, debit,
                            (debit + 1 + random.nextInt(999)) % 1_000, BigInteger.valueOf(1 + random.nextInt(1_000)),
                            now);
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
                    byte[] binary = binary(rows);
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

    private static String csv(Row[] rows) {
        StringBuilder csv = new StringBuilder(rows.length * 220);
        for (Row t : rows) {
            csv.append(t.id()).append(',').append(t.seq()).append(",SINGLE,").append(t.debit()).append(',')
                    .append(t.credit()).append(',').append(TOKEN).append(',').append(t.amount())
                    .append(",,,,,,").append(t.createdAt()).append('\n');
        }
        return csv.toString();
    }

    /** PostgreSQL's binary COPY format: header, then per row the field count and length-prefixed fields. */
    static byte[] binary(Row[] rows) throws IOException {
        ByteArrayOutputStream buffer = new ByteArrayOutputStream(rows.length * 160);
        DataOutputStream out = new DataOutputStream(buffer);
        out.write("PGCOPY\n\377\r\n\0".getBytes(StandardCharsets.ISO_8859_1));
        out.writeInt(0);
        out.writeInt(0);
        byte[] kind = "SINGLE".getBytes(StandardCharsets.US_ASCII);
        byte[] token = TOKEN.getBytes(StandardCharsets.US_ASCII);
        for (Row t : rows) {
            out.writeShort(13);
            out.writeInt(16);
            out.writeLong(t.id().getMostSignificantBits());
            out.writeLong(t.id().getLeastSignificantBits());
            out.writeInt(8);
            out.writeLong(t.seq());
            out.writeInt(kind.length);
            out.write(kind);
            out.writeInt(8);
            out.writeLong(t.debit());
            out.writeInt(8);
            out.writeLong(t.credit());
            out.writeInt(token.length);
            out.write(token);
            numeric(out, t.amount());
            for (int i = 0; i < 5; i++) {
                out.writeInt(-1);
            }
            out.writeInt(8);
            Instant at = t.createdAt();
            out.writeLong(at.getEpochSecond() * 1_000_000L + at.getNano() / 1_000 - POSTGRES_EPOCH_MICROS);
        }
        out.writeShort(-1);
        out.flush();
        return buffer.toByteArray();
    }

    /** A non-negative integer as PostgreSQL's binary numeric: base-10000 digits, most significant first. */
    static void numeric(DataOutputStream out, BigInteger value) throws IOException {
        String decimal = value.toString();
        int groups = (decimal.length() + 3) / 4;
        short[] digits = new short[groups];
        int end = decimal.length();
        for (int g = groups - 1; g >= 0; g--) {
            int start = Math.max(0, end - 4);
            digits[g] = Short.parseShort(decimal.substring(start, end));
            end = start;
        }
        int n = groups;
        while (n > 0 && digits[n - 1] == 0) {
            n--;
        }
        out.writeInt(8 + 2 * n);
        out.writeShort(n);
        out.writeShort(n == 0 ? 0 : groups - 1);
        out.writeShort(0);
        out.writeShort(0);
        for (int i = 0; i < n; i++) {
            out.writeShort(digits[i]);
        }
    }
}
