package dev.agentescrow.batcher.ledger;

import dev.agentescrow.chain.Bytes32;
import java.math.BigInteger;
import java.util.HexFormat;
import java.util.Objects;
import java.util.UUID;

/**
 * A client-supplied 128-bit transfer id, unsigned; it is the transfer's idempotency key. Stored
 * as a PostgreSQL {@code uuid} (the same 16 bytes); as a {@code bytes32} (the on-chain Merkle
 * leaf) it is left-padded with zeros.
 *
 * <p><b>Reserved namespace.</b> Ids whose top 32 bits are all ones ({@code ffffffff-...}) are
 * reserved for ids the system derives (expiries, deposits, escapes, payouts; see
 * {@link #reserved}). Every client entry point refuses them with {@link TransferResult#RESERVED_ID},
 * so no client can take an id the system will need later. No id a client makes by counting can
 * fall in it, and a random one does with probability 2^-32 (and is then told so, never booked).
 */
public record TransferId(long high, long low) implements Comparable<TransferId> {
    /** The largest id, 2^128 - 1. */
    public static final BigInteger MAX_VALUE = BigInteger.ONE.shiftLeft(128).subtract(BigInteger.ONE);
    private static final long RESERVED_PREFIX = 0xFFFFFFFFL;

    /** Which part of the system derived a reserved id: the byte after the reserved prefix. */
    public enum Domain {
        /** The EXPIRE transfer of a hold: the low 64 bits are its sequence number. */
        EXPIRE(1),
        /** A vault deposit's hold, booked from a log: 88 bits of keccak256(txHash || ordinal || incarnation). */
        DEPOSIT(2),
        /** An escape withdrawal booked from a log, like a deposit. */
        ESCAPE(3),
        /** The payout of a settled withdrawal: the low 64 bits are the withdrawal's sequence number. */
        PAYOUT(4),
        /** The withdrawal that books a forced-withdrawal request: 88 bits of a hash of the request. */
        FORCED_WITHDRAWAL(5),
        /** The post of a custody hold (a deposit's or escape's pending transfer): 88 bits of a hash of the hold id. */
        CUSTODY_POST(6),
        /** The void of a custody hold whose block left the chain: 88 bits of a hash of the hold id. */
        CUSTODY_VOID(7);

        final int tag;

        Domain(int tag) {
            this.tag = tag;
        }
    }

    /**
     * A reserved id: the prefix {@code ffffffff}, the domain's byte, then 88 bits of {@code body}
     * (its low 11 bytes, big-endian). Different domains never collide, and within a domain ids
     * built from a unique 64-bit number (a sequence number) never collide.
     */
    public static TransferId reserved(Domain domain, byte[] body) {
        Objects.requireNonNull(domain, "domain");
        if (body.length < 11) {
            throw new IllegalArgumentException("a reserved id needs 11 bytes of body");
        }
        long high = (RESERVED_PREFIX << 32) | ((long) domain.tag << 24);
        int from = body.length - 11;
        for (int i = 0; i < 3; i++) {
            high |= (body[from + i] & 0xFFL) << (16 - 8 * i);
        }
        long low = 0;
        for (int i = 3; i < 11; i++) {
            low = (low << 8) | (body[from + i] & 0xFFL);
        }
        return new TransferId(high, low);
    }

    /** A reserved id of {@code domain} whose low 64 bits are {@code number} (e.g. a sequence number). */
    public static TransferId reserved(Domain domain, long number) {
        return new TransferId((RESERVED_PREFIX << 32) | ((long) domain.tag << 24), number);
    }

    /** Whether this is a reserved id of {@code domain}. */
    public boolean isReserved(Domain domain) {
        return isReserved() && ((high >>> 24) & 0xFF) == domain.tag;
    }

    /** Whether this id is in the namespace only the system may use. */
    public boolean isReserved() {
        return (high >>> 32) == RESERVED_PREFIX;
    }

    /** The id as an unsigned 128-bit integer: 0 to 2^128 - 1. */
    public static TransferId of(BigInteger value) {
        Objects.requireNonNull(value, "value");
        if (value.signum() < 0 || value.compareTo(MAX_VALUE) > 0) {
            throw new IllegalArgumentException("transfer id must be in [0, 2^128 - 1]: " + value);
        }
        return new TransferId(value.shiftRight(64).longValue(), value.longValue());
    }

    /** The id {@code value}, which must not be negative (small ids, as tests count them). */
    public static TransferId of(long value) {
        if (value < 0) {
            throw new IllegalArgumentException("transfer id must be in [0, 2^128 - 1]: " + value);
        }
        return new TransferId(0, value);
    }

    /** The id of a {@code bytes32} Merkle leaf field: 16 zero bytes, then the 16 id bytes. */
    public static TransferId fromBytes32(Bytes32 word) {
        byte[] bytes = word.bytes();
        for (int i = 0; i < 16; i++) {
            if (bytes[i] != 0) {
                throw new IllegalArgumentException("not a 128-bit id left-padded to bytes32: " + word);
            }
        }
        long high = 0;
        long low = 0;
        for (int i = 0; i < 8; i++) {
            high = (high << 8) | (bytes[16 + i] & 0xFFL);
            low = (low << 8) | (bytes[24 + i] & 0xFFL);
        }
        return new TransferId(high, low);
    }

    public static TransferId of(UUID uuid) {
        return new TransferId(uuid.getMostSignificantBits(), uuid.getLeastSignificantBits());
    }

    /** Parses 1 to 32 hex digits, with or without a 0x prefix, or a UUID string. */
    public static TransferId parse(String text) {
        Objects.requireNonNull(text, "text");
        if (text.length() == 36 && text.charAt(8) == '-') {
            return of(UUID.fromString(text));
        }
        String hex = text.startsWith("0x") || text.startsWith("0X") ? text.substring(2) : text;
        if (!hex.matches("[0-9a-fA-F]{1,32}")) {
            throw new IllegalArgumentException("transfer id must be 1-32 hex digits or a UUID: " + text);
        }
        return of(new BigInteger(hex, 16));
    }

    /** Whether {@code text} parses as a transfer id. */
    public static boolean isValid(String text) {
        try {
            parse(text);
            return true;
        } catch (IllegalArgumentException | NullPointerException e) {
            return false;
        }
    }

    public BigInteger toBigInteger() {
        return new BigInteger(1, bytes());
    }

    public UUID toUuid() {
        return new UUID(high, low);
    }

    /** The 16 big-endian bytes. */
    public byte[] bytes() {
        byte[] out = new byte[16];
        for (int i = 0; i < 8; i++) {
            out[i] = (byte) (high >>> (56 - 8 * i));
            out[8 + i] = (byte) (low >>> (56 - 8 * i));
        }
        return out;
    }

    /** The id as a {@code bytes32}: 16 zero bytes, then the 16 id bytes. */
    public Bytes32 toBytes32() {
        byte[] out = new byte[32];
        System.arraycopy(bytes(), 0, out, 16, 16);
        return new Bytes32(out);
    }

    /** 32 lower-case hex digits with 0x. */
    public String hex() {
        return "0x" + HexFormat.of().formatHex(bytes());
    }

    @Override
    public int compareTo(TransferId other) {
        int c = Long.compareUnsigned(high, other.high);
        return c != 0 ? c : Long.compareUnsigned(low, other.low);
    }

    @Override
    public String toString() {
        return hex();
    }
}
