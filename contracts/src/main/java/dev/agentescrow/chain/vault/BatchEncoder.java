package dev.agentescrow.chain.vault;

import dev.agentescrow.chain.Address;
import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.function.Function;

/**
 * Packs a {@link SettlementBatch} into the vault's compact {@code settleBatch} calldata (see
 * ISettlementVault): per token section {@code tokenId:uint32 deltaCount:uint16 payoutCount:uint16},
 * then 20-byte deltas {@code account:uint32 (bit 31 = debit) amount:uint128} and 40-byte payouts
 * {@code account:uint32 (bit 31 = serves a forced withdrawal) amount:uint128 recipient:address}. Zero deltas are left out; the others are
 * sorted by account id, so that accounts sharing a balance slot in the vault come one after the
 * other (the vault then writes that slot once).
 */
final class BatchEncoder {
    static final int MAX_ACCOUNT_ID = (1 << 31) - 1;
    private static final int MAX_COUNT = 0xffff;
    private static final long DEBIT_FLAG = 1L << 31;

    private BatchEncoder() {
    }

    /**
     * @param tokenIds the vault's id of each token in the batch
     * @param accountIds the vault's id of each account in the batch
     */
    static byte[] encode(SettlementBatch batch, Function<Address, Long> tokenIds, Function<Address, Long> accountIds) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (SettlementBatch.TokenSettlement token : batch.tokens()) {
            var deltas = token.deltas().stream().filter(d -> d.signedDelta().signum() != 0)
                    .sorted(Comparator.comparingLong(d -> accountId(accountIds, d.account()))).toList();
            if (deltas.size() > MAX_COUNT || token.payouts().size() > MAX_COUNT) {
                throw new IllegalArgumentException("too many entries for token " + token.token());
            }
            write(out, BigInteger.valueOf(tokenIds.apply(token.token())), 4);
            write(out, BigInteger.valueOf(deltas.size()), 2);
            write(out, BigInteger.valueOf(token.payouts().size()), 2);
            for (SettlementBatch.Delta delta : deltas) {
                long id = accountId(accountIds, delta.account());
                write(out, BigInteger.valueOf(delta.signedDelta().signum() < 0 ? id | DEBIT_FLAG : id), 4);
                write(out, delta.signedDelta().abs(), 16);
            }
            for (SettlementBatch.Payout payout : token.payouts()) {
                long id = accountId(accountIds, payout.account());
                write(out, BigInteger.valueOf(payout.servesForcedWithdrawal() ? id | DEBIT_FLAG : id), 4);
                write(out, payout.amount().baseUnits(), 16);
                out.writeBytes(HexFormat.of().parseHex(payout.recipient().hex().substring(2)));
            }
        }
        return out.toByteArray();
    }

    private static long accountId(Function<Address, Long> accountIds, Address account) {
        long id = accountIds.apply(account);
        if (id < 1 || id > MAX_ACCOUNT_ID) {
            throw new IllegalArgumentException("account id out of range for " + account + ": " + id);
        }
        return id;
    }

    private static void write(ByteArrayOutputStream out, BigInteger value, int bytes) {
        if (value.signum() < 0 || value.bitLength() > bytes * 8) {
            throw new IllegalArgumentException(value + " does not fit " + bytes + " bytes");
        }
        byte[] raw = value.toByteArray();
        byte[] fixed = new byte[bytes];
        int copy = Math.min(raw.length, bytes);
        System.arraycopy(raw, raw.length - copy, fixed, bytes - copy, copy);
        out.writeBytes(fixed);
    }
}
