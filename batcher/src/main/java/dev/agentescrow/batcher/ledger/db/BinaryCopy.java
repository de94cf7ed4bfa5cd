package dev.agentescrow.batcher.ledger.db;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

/**
 * A group's transfers in PostgreSQL's binary COPY format ({@code COPY ... FROM STDIN (FORMAT
 * binary)}): the server stores the values as they come instead of parsing text (uuid, numeric,
 * timestamptz), which measured 1-13 % less time per COPY and commit than CSV
 * ({@code ledger.db.CopyFormatBenchmark}, docs/ledger.md). Field order is {@link LedgerStore}'s
 * {@code TRANSFER_COLUMNS}.
 */
final class BinaryCopy {
    private static final byte[] SIGNATURE = "PGCOPY\n\377\r\n\0".getBytes(StandardCharsets.ISO_8859_1);
    private static final long POSTGRES_EPOCH_MICROS = 946_684_800_000_000L;
    private static final int FIELDS = 13;
    private static final int NARROW_FIELDS = 8;

    private BinaryCopy() {
    }

    /**
     * Whether every transfer of the group leaves the optional columns (pending id, timeout,
     * expiry, link group, reference) empty, as plain payments do: then the COPY names only the
     * eight other columns ({@link LedgerStore}'s {@code NARROW_TRANSFER_COLUMNS}) and sends no
     * null markers for the rest.
     */
    static boolean narrow(List<TransferRow> transfers) {
        for (TransferRow t : transfers) {
            if (t.pendingId() != null || t.timeoutSeconds() != null || t.expiresAt() != null
                    || t.linkGroup() != null || t.reference() != null) {
                return false;
            }
        }
        return true;
    }

    /** The rows in the order of {@code TRANSFER_COLUMNS}, or of the narrow columns when {@code narrow}. */
    static byte[] transfers(List<TransferRow> transfers, boolean narrow) {
        ByteArrayOutputStream buffer = new ByteArrayOutputStream(32 + transfers.size() * 170);
        try (DataOutputStream out = new DataOutputStream(buffer)) {
            out.write(SIGNATURE);
            out.writeInt(0);
            out.writeInt(0);
            for (TransferRow t : transfers) {
                out.writeShort(narrow ? NARROW_FIELDS : FIELDS);
                uuid(out, t.id().toUuid());
                int8(out, t.seq());
                text(out, t.kind().name());
                int8(out, t.debitAccountId());
                int8(out, t.creditAccountId());
                text(out, t.token().hex());
                numeric(out, t.amount());
                if (narrow) {
                    timestamp(out, t.createdAt());
                    continue;
                }
                uuid(out, t.pendingId() == null ? null : t.pendingId().toUuid());
                if (t.timeoutSeconds() == null) {
                    out.writeInt(-1);
                } else {
                    out.writeInt(4);
                    out.writeInt(Math.toIntExact(t.timeoutSeconds()));
                }
                timestamp(out, t.expiresAt());
                uuid(out, t.linkGroup() == null ? null : t.linkGroup().toUuid());
                if (t.reference() == null) {
                    out.writeInt(-1);
                } else {
                    text(out, t.reference());
                }
                timestamp(out, t.createdAt());
            }
            out.writeShort(-1);
        } catch (IOException e) {
            throw new UncheckedIOException("encoding a binary COPY in memory", e);
        }
        return buffer.toByteArray();
    }

    private static void uuid(DataOutputStream out, UUID id) throws IOException {
        if (id == null) {
            out.writeInt(-1);
            return;
        }
        out.writeInt(16);
        out.writeLong(id.getMostSignificantBits());
        out.writeLong(id.getLeastSignificantBits());
    }

    private static void int8(DataOutputStream out, long value) throws IOException {
        out.writeInt(8);
        out.writeLong(value);
    }

    private static void text(DataOutputStream out, String value) throws IOException {
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        out.writeInt(bytes.length);
        out.write(bytes);
    }

    private static void timestamp(DataOutputStream out, Instant at) throws IOException {
        if (at == null) {
            out.writeInt(-1);
            return;
        }
        out.writeInt(8);
        out.writeLong(Math.addExact(Math.multiplyExact(at.getEpochSecond(), 1_000_000L), at.getNano() / 1_000)
                - POSTGRES_EPOCH_MICROS);
    }

    /**
     * A non-negative integer as PostgreSQL's binary numeric: the count of base-10000 digits, the
     * weight of the first, sign 0 (positive), display scale 0, then the digits, most significant
     * first, trailing zero digits left out.
     */
    static void numeric(DataOutputStream out, BigInteger value) throws IOException {
        if (value.signum() < 0) {
            throw new IllegalArgumentException("amounts are not negative: " + value);
        }
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
