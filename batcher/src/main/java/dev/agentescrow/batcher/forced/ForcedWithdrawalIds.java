package dev.agentescrow.batcher.forced;

import dev.agentescrow.batcher.ledger.TransferId;
import dev.agentescrow.chain.Address;
import dev.agentescrow.chain.Amount;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.web3j.crypto.Hash;
import org.web3j.utils.Numeric;

/**
 * The ledger transfer id of the withdrawal that books a forced withdrawal: a reserved id of the
 * domain {@link TransferId.Domain#FORCED_WITHDRAWAL} with 88 bits of
 * keccak256("forced-withdrawal" || token || account || uint256 amount || uint256 deadline), so no
 * client can book a transfer under it first (which would leave the request unbooked, unserved, and
 * the vault frozen at its deadline). It is
 * derived from what the vault's {@code forcedWithdrawal(token, account)} view returns, so the
 * submitter recognises the booked withdrawal from the chain alone (the vault allows one open request
 * per account and token; a later request has a later deadline or another amount).
 */
public final class ForcedWithdrawalIds {
    private static final byte[] DOMAIN = "forced-withdrawal".getBytes(StandardCharsets.US_ASCII);

    private ForcedWithdrawalIds() {
    }

    public static TransferId transferId(Address token, Address account, Amount amount, Instant deadline) {
        byte[] input = new byte[DOMAIN.length + 20 + 20 + 32 + 32];
        int at = 0;
        System.arraycopy(DOMAIN, 0, input, at, DOMAIN.length);
        at += DOMAIN.length;
        System.arraycopy(Numeric.hexStringToByteArray(token.hex()), 0, input, at, 20);
        at += 20;
        System.arraycopy(Numeric.hexStringToByteArray(account.hex()), 0, input, at, 20);
        at += 20;
        System.arraycopy(Numeric.toBytesPadded(amount.baseUnits(), 32), 0, input, at, 32);
        at += 32;
        System.arraycopy(Numeric.toBytesPadded(BigInteger.valueOf(deadline.getEpochSecond()), 32), 0, input, at, 32);
        return TransferId.reserved(TransferId.Domain.FORCED_WITHDRAWAL, Hash.sha3(input));
    }
}
